// Password hashing runs under a concurrency cap with a bounded wait: a burst of sign-ups past it
// gets 503 with Retry-After, and writes nothing.
import { afterAll, expect, test } from 'bun:test'
import { createPasswordHasher } from '../../src/security/passwords'
import { createTestContext, uniqueEmail } from '../support/context'
import { waitFor } from '../support/wait'

// The real hasher and its cap, with argon2id held back while a test says so: what is hashing, waiting
// or refused then depends on the cap alone, not on how fast this machine hashes.
const hashing: string[] = []
let held: Promise<void> | undefined
const ctx = createTestContext({
  env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE_MAX: '1', PASSWORD_HASH_QUEUE_TIMEOUT_MS: '5000' },
  passwords: (config) =>
    createPasswordHasher(config.passwordHash, {
      hash: async (password, options) => {
        hashing.push(password)
        await held
        return Bun.password.hash(password, options)
      },
      verify: (password, hash) => Bun.password.verify(password, hash),
    }),
})
afterAll(() => ctx.cleanup())

test('past the cap and the wait list, sign-ups are 503 with Retry-After and leave no rows', async () => {
  const hashesMayRun = Promise.withResolvers<void>()
  held = hashesMayRun.promise
  hashing.length = 0 // the login's dummy hash, made when the hasher was
  const emails = Array.from({ length: 6 }, () => uniqueEmail('burst'))
  const answered: number[] = []
  const responses = emails.map((email) =>
    ctx.request('POST', '/users/signup', { json: { email, password: 'correct horse battery' } }).then((r) => {
      answered.push(r.status)
      return r
    }),
  )
  // One hashing, one waiting; the other four are refused at once, while the first hash still runs.
  await waitFor('four sign-ups to be refused', () => answered.length === 4)
  expect(answered).toEqual([503, 503, 503, 503])
  expect(hashing).toHaveLength(1)
  hashesMayRun.resolve()

  const results = await Promise.all(responses)
  expect(results.filter((r) => r.status === 201)).toHaveLength(2)
  expect(results.filter((r) => r.status === 503)).toHaveLength(4)
  expect(hashing).toHaveLength(2)
  for (const r of results.filter((r) => r.status === 503)) {
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(r.body).toEqual({ detail: 'Too many sign-ups or logins at once, try again', code: 'hashing_busy' })
  }
  const rows = await ctx.sql`select email from users where email in ${ctx.sql(emails)}`
  expect(rows).toHaveLength(2)
})

test('the configured argon2id cost is what gets stored', async () => {
  held = undefined
  const res = await ctx.request('POST', '/users/signup', {
    json: { email: uniqueEmail(), password: 'correct horse battery' },
  })
  expect(res.status).toBe(201)
  const [row] = await ctx.sql`select hashed_password from users where id = ${res.body.id}`
  expect(row!.hashed_password).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
})
