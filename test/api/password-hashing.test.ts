// Password hashing runs under a concurrency cap with a bounded wait: a burst of sign-ups past it
// gets 503 with Retry-After, and writes nothing.
import { afterAll, expect, test } from 'bun:test'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext({
  env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE_MAX: '1', PASSWORD_HASH_QUEUE_TIMEOUT_MS: '5000' },
})
afterAll(() => ctx.cleanup())

test('past the cap and the wait list, sign-ups are 503 with Retry-After and leave no rows', async () => {
  const emails = Array.from({ length: 6 }, () => uniqueEmail('burst'))
  const responses = await Promise.all(
    emails.map((email) => ctx.request('POST', '/users/', { json: { email, password: 'correct horse battery' } })),
  )
  const statuses = responses.map((r) => r.status)
  // One hashing, one waiting; the other four are refused at once.
  expect(statuses.filter((s) => s === 201)).toHaveLength(2)
  expect(statuses.filter((s) => s === 503)).toHaveLength(4)
  for (const r of responses.filter((r) => r.status === 503)) {
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(r.body).toEqual({ detail: 'Too many sign-ups at once, try again', code: 'hashing_busy' })
  }
  const rows = await ctx.sql`select email from users where email in ${ctx.sql(emails)}`
  expect(rows).toHaveLength(2)
})

test('the configured argon2id cost is what gets stored', async () => {
  const user = await ctx.createUser()
  const [row] = await ctx.sql`select hashed_password from users where id = ${user.id}`
  expect(row!.hashed_password).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
})
