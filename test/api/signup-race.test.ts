// Uniqueness is the index's job: concurrent sign-ups with one email (in different cases) give
// exactly one 201 and a 409 for every other, and exactly one row.
import { afterAll, expect, test } from 'bun:test'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

test('16 concurrent sign-ups with one email: one 201, fifteen 409, one row', async () => {
  const email = uniqueEmail('race')
  const variants = Array.from({ length: 16 }, (_, i) => (i % 2 ? email.toUpperCase() : email))
  const responses = await Promise.all(
    variants.map((variant) =>
      ctx.request('POST', '/users/signup', { json: { email: variant, password: 'correct horse battery' } }),
    ),
  )
  const statuses = responses.map((r) => r.status).sort()
  expect(statuses).toEqual([201, ...Array(15).fill(409)])
  for (const r of responses.filter((r) => r.status === 409))
    expect(r.body).toEqual({ detail: 'Email already registered', code: 'email_taken' })
  const rows = await ctx.sql`select id from users where lower(email) = lower(${email})`
  expect(rows).toHaveLength(1)
})
