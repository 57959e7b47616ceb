// The repositories on their own, without HTTP: what the tutorial means by a reusable,
// unit-testable `get_user`. They take a Database and a caller, and return API-shaped objects or
// throw domain errors; the caller check is part of each statement.
import { afterAll, describe, expect, test } from 'bun:test'
import { createSql } from '../../src/db/client'
import { createDatabase } from '../../src/db/database'
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../src/errors'
import { createItemsRepository } from '../../src/modules/items/repository'
import { createSessionsRepository, newRefreshToken } from '../../src/modules/sessions/repository'
import { createUsersRepository } from '../../src/modules/users/repository'
import type { Caller } from '../../src/security/tokens'
import { databaseUrl, silentLogger, testConfig, uniqueEmail } from '../support/context'

const config = testConfig()
const sql = createSql(databaseUrl(), config.database, silentLogger)
const db = createDatabase(sql, config.database)
const users = createUsersRepository(db, config.items)
const items = createItemsRepository(db, config.items)
const sessions = createSessionsRepository(db, { lifetimeDays: 30 })
const made: number[] = []
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'

afterAll(async () => {
  if (made.length) await sql`delete from users where id in ${sql(made)}`
  await sql.end({ timeout: 5 })
})

/** A registered user and a caller for it, in a live session. */
const newCaller = async (superuser = false, email = uniqueEmail()) => {
  const user = await users.register({ email, hashed_password: HASH })
  made.push(user.id)
  if (superuser) await sql`update users set is_superuser = true where id = ${user.id}`
  const origin = { userAgent: null, clientAddress: 'x' }
  const sessionId = await sessions.start(String(user.id), HASH, newRefreshToken(), origin)
  const caller: Caller = { userId: String(user.id), sessionId: sessionId! }
  return { user: { ...user, is_superuser: superuser }, caller }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error) => error,
  )

describe('users repository', () => {
  test('register returns the public fields, never the hash, with numeric id and ISO timestamp', async () => {
    const email = uniqueEmail()
    const { user } = await newCaller(false, email)
    expect(user).toEqual({
      id: expect.any(Number),
      email,
      is_active: true,
      is_superuser: false,
      full_name: null,
      created_at: expect.any(String),
      items_count: 0,
      items: [],
    })
    expect(new Date(user.created_at).toISOString()).toBe(user.created_at)
    expect('hashed_password' in user).toBe(false)
  })

  test('register with a taken email (any case) throws ConflictError', async () => {
    const { user } = await newCaller()
    const error = await failure(users.register({ email: user.email.toUpperCase(), hashed_password: 'x' }))
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ code: 'email_taken', message: 'Email already registered' })
  })

  test('getAs: yourself with your items by id; another user is ForbiddenError; a superuser gets NotFoundError for a missing one', async () => {
    const { user, caller } = await newCaller()
    const first = await items.createAs(caller, caller.userId, { title: 'first' })
    const second = await items.createAs(caller, caller.userId, { title: 'second', description: 'two' })
    expect(await users.getAs(caller, caller.userId)).toEqual({ ...user, items_count: 2, items: [first, second] })
    expect(await failure(users.getAs(caller, '9223372036854775807'))).toBeInstanceOf(ForbiddenError)
    const admin = await newCaller(true)
    expect(await users.getAs(admin.caller, caller.userId)).toEqual({ ...user, items_count: 2, items: [first, second] })
    expect(await failure(users.getAs(admin.caller, '9223372036854775807'))).toBeInstanceOf(NotFoundError)
  })

  test('a caller whose session ended, or whose user is inactive, is UnauthenticatedError in every statement', async () => {
    const { caller } = await newCaller()
    await sessions.revokeOwn(caller)
    expect(await failure(users.getAs(caller, caller.userId))).toBeInstanceOf(UnauthenticatedError)
    expect(await failure(items.listAs(caller, { offset: '0', limit: '10' }))).toBeInstanceOf(UnauthenticatedError)
    const other = await newCaller()
    await sql`update users set is_active = false where id = ${other.caller.userId}`
    const error = await failure(items.createAs(other.caller, other.caller.userId, { title: 'nope' }))
    expect(error).toBeInstanceOf(UnauthenticatedError)
    expect(await sql`select 1 from items where owner_id = ${other.caller.userId}`).toHaveLength(0)
  })

  test('updateAs (superusers) changes the given columns only; NotFoundError for a missing user; ConflictError on a taken email', async () => {
    const admin = await newCaller(true)
    const { user } = await newCaller()
    const other = await newCaller()
    const id = String(user.id)
    expect(await users.updateAs(admin.caller, id, { is_active: false })).toEqual({ ...user, is_active: false })
    expect(await users.updateAs(admin.caller, id, {})).toEqual({ ...user, is_active: false })
    expect(await failure(users.updateAs(admin.caller, '9223372036854775807', { is_active: true }))).toBeInstanceOf(
      NotFoundError,
    )
    expect(await failure(users.updateAs(admin.caller, id, { email: other.user.email }))).toBeInstanceOf(ConflictError)
    expect(await failure(users.updateAs(other.caller, id, { full_name: 'x' }))).toBeInstanceOf(ForbiddenError)
  })

  test('deleteAs (superusers) takes the items with it; a second delete is NotFoundError', async () => {
    const admin = await newCaller(true)
    const { caller } = await newCaller()
    const item = await items.createAs(caller, caller.userId, { title: 'cascade' })
    await users.deleteAs(admin.caller, caller.userId)
    expect(await failure(users.deleteAs(admin.caller, caller.userId))).toBeInstanceOf(NotFoundError)
    expect(await items.getAs(admin.caller, String(item.id))).toBeUndefined()
  })
})

describe('items repository', () => {
  test('createAs for a missing owner throws NotFoundError("User not found") and writes nothing', async () => {
    const admin = await newCaller(true)
    const title = `orphan-${crypto.randomUUID()}`
    const error = await failure(items.createAs(admin.caller, '9223372036854775807', { title }))
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error).toMatchObject({ code: 'user_not_found', message: 'User not found' })
    expect(await sql`select 1 from items where title = ${title}`).toHaveLength(0)
  })

  test('updateAs: null clears the description, absent fields stay; undefined for a missing or foreign item', async () => {
    const { caller } = await newCaller()
    const stranger = await newCaller()
    const item = await items.createAs(caller, caller.userId, { title: 'a', description: 'b' })
    expect(await items.updateAs(caller, String(item.id), { description: null })).toEqual({ ...item, description: null })
    expect(await items.updateAs(caller, String(item.id), { title: 'c' })).toEqual({
      ...item,
      title: 'c',
      description: null,
    })
    expect(await items.updateAs(caller, '9223372036854775807', { title: 'x' })).toBeUndefined()
    expect(await items.updateAs(stranger.caller, String(item.id), { title: 'x' })).toBeUndefined()
    expect((await sql`select title from items where id = ${item.id}`)[0]!.title).toBe('c')
  })

  test('deleteAs reports whether a row went; never a foreign one', async () => {
    const { caller } = await newCaller()
    const stranger = await newCaller()
    const item = await items.createAs(caller, caller.userId, { title: 'p1' })
    expect(await items.deleteAs(stranger.caller, String(item.id))).toBe(false)
    expect(await items.deleteAs(caller, String(item.id))).toBe(true)
    expect(await items.deleteAs(caller, String(item.id))).toBe(false)
  })
})
