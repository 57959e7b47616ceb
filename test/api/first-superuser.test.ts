// FIRST_SUPERUSER_EMAIL/PASSWORD: made at start when absent, once, even with several instances
// starting at once; an account that already has the email is left as it is, with a warning.
import { afterAll, expect, test } from 'bun:test'
import { createDatabase } from '../../src/db/database'
import { createLogger } from '../../src/logger'
import { ensureFirstSuperuser } from '../../src/modules/users/first-superuser'
import { createUsersRepository } from '../../src/modules/users/repository'
import { createPasswordHasher } from '../../src/security/passwords'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

const lines: string[] = []
const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) })
const users = createUsersRepository(createDatabase(ctx.sql, ctx.config.database), ctx.config.items)
const passwords = createPasswordHasher(ctx.config.passwordHash)

test('four instances starting at once make exactly one superuser, who can log in', async () => {
  const email = uniqueEmail('Root')
  const account = { email, password: 'the first superuser' }
  await Promise.all(Array.from({ length: 4 }, () => ensureFirstSuperuser(account, { users, passwords, logger })))
  const rows = await ctx.sql`select id, is_superuser from users where lower(email) = lower(${email})`
  expect(rows).toHaveLength(1)
  ctx.track(Number(rows[0]!.id))
  expect(rows[0]!.is_superuser).toBe(true)
  const login = await ctx.login(email, account.password)
  expect(login.status).toBe(200)
  const list = await ctx.request('GET', '/users/?limit=1', { token: login.body.access_token })
  expect(list.status).toBe(200)

  // Started again (a restart): nothing changes, the password included.
  await ensureFirstSuperuser({ email, password: 'a different password' }, { users, passwords, logger })
  expect((await ctx.login(email, account.password)).status).toBe(200)
  expect(lines.join('\n')).not.toContain(account.password)
})

test('an existing ordinary account with that email is left as it is, with a warning', async () => {
  const user = await ctx.createUser()
  lines.length = 0
  await ensureFirstSuperuser(
    { email: user.email.toUpperCase(), password: 'whatever it is' },
    { users, passwords, logger },
  )
  const [row] = await ctx.sql`select is_superuser, hashed_password from users where id = ${user.id}`
  expect(row!.is_superuser).toBe(false)
  expect(await Bun.password.verify(user.password, row!.hashed_password)).toBe(true)
  const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'warn')
  expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringContaining('not a superuser') })])
})
