// The repositories on their own, without HTTP: what the tutorial means by a reusable,
// unit-testable `get_user`. They take a Database and return API-shaped objects.
import { afterAll, describe, expect, test } from 'bun:test'
import { createSql } from '../../src/db/client'
import { createDatabase } from '../../src/db/database'
import { ConflictError, NotFoundError } from '../../src/errors'
import { createItemsRepository } from '../../src/modules/items/repository'
import { createUsersRepository } from '../../src/modules/users/repository'
import { databaseUrl, silentLogger, testConfig, uniqueEmail } from '../support/context'

const config = testConfig()
const sql = createSql(databaseUrl(), config.database, silentLogger)
const db = createDatabase(sql, config.database)
const users = createUsersRepository(db)
const items = createItemsRepository(db)
const made: number[] = []

afterAll(async () => {
  if (made.length) await sql`delete from users where id in ${sql(made)}`
  await sql.end({ timeout: 5 })
})

const newUser = async (email = uniqueEmail()) => {
  const user = await users.createUser({
    email,
    hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
  })
  made.push(user.id)
  return user
}

describe('users repository', () => {
  test('createUser returns the public fields, never the hash, with numeric id and ISO timestamp', async () => {
    const email = uniqueEmail()
    const user = await newUser(email)
    expect(user).toEqual({ id: expect.any(Number), email, is_active: true, created_at: expect.any(String), items: [] })
    expect(new Date(user.created_at).toISOString()).toBe(user.created_at)
    expect('hashed_password' in user).toBe(false)
  })

  test('createUser with a taken email (any case) throws ConflictError', async () => {
    const user = await newUser()
    const error = await users.createUser({ email: user.email.toUpperCase(), hashed_password: 'x' }).catch((e) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ code: 'email_taken', message: 'Email already registered' })
  })

  test('getUser finds by id (given as text), with items ordered by id; undefined when missing', async () => {
    const user = await newUser()
    const first = await items.createItem(String(user.id), { title: 'first' })
    const second = await items.createItem(String(user.id), { title: 'second', description: 'two' })
    expect(await users.getUser(String(user.id))).toEqual({ ...user, items: [first, second] })
    expect(await users.getUser('9223372036854775807')).toBeUndefined()
  })

  test('updateUser changes the given columns only; undefined for a missing user; ConflictError on a taken email', async () => {
    const user = await newUser()
    const other = await newUser()
    expect(await users.updateUser(String(user.id), { is_active: false })).toEqual({ ...user, is_active: false })
    expect(await users.updateUser(String(user.id), {})).toEqual({ ...user, is_active: false })
    expect(await users.updateUser('9223372036854775807', { is_active: true })).toBeUndefined()
    expect(await users.updateUser(String(user.id), { email: other.email }).catch((e) => e)).toBeInstanceOf(
      ConflictError,
    )
  })

  test('deleteUser reports whether a row went, and takes the items with it', async () => {
    const user = await newUser()
    const item = await items.createItem(String(user.id), { title: 'cascade' })
    expect(await users.deleteUser(String(user.id))).toBe(true)
    expect(await users.deleteUser(String(user.id))).toBe(false)
    expect(await items.getItem(String(item.id))).toBeUndefined()
  })
})

describe('items repository', () => {
  test('createItem for a missing owner throws NotFoundError("User not found") and writes nothing', async () => {
    const title = `orphan-${crypto.randomUUID()}`
    const error = await items.createItem('9223372036854775807', { title }).catch((e) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error).toMatchObject({ code: 'user_not_found', message: 'User not found' })
    expect(await sql`select 1 from items where title = ${title}`).toHaveLength(0)
  })

  test('updateItem: null clears the description, absent fields stay, undefined for a missing item', async () => {
    const user = await newUser()
    const item = await items.createItem(String(user.id), { title: 'a', description: 'b' })
    expect(await items.updateItem(String(item.id), { description: null })).toEqual({ ...item, description: null })
    expect(await items.updateItem(String(item.id), { title: 'c' })).toEqual({ ...item, title: 'c', description: null })
    expect(await items.updateItem('9223372036854775807', { title: 'x' })).toBeUndefined()
  })

  test('deleteItem reports whether a row went', async () => {
    const user = await newUser()
    const item = await items.createItem(String(user.id), { title: 'p1' })
    expect(await items.deleteItem(String(item.id))).toBe(true)
    expect(await items.deleteItem(String(item.id))).toBe(false)
  })
})
