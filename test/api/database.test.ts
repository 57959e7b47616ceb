// The gated pool repositories run on: a transaction holds one permit throughout and is all or nothing,
// and the failures it can explain leave it as domain errors with their codes, never as HTTP.
import { afterAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createSql } from '../../src/db/client'
import type { Database } from '../../src/db/database'
import { createDatabase } from '../../src/db/database'
import { InvalidValueError, UnavailableError } from '../../src/errors'
import { createItemsRepository } from '../../src/modules/items/repository'
import { createSessionsRepository, newRefreshToken } from '../../src/modules/sessions/repository'
import { createUsersRepository } from '../../src/modules/users/repository'
import { databaseUrl, silentLogger, testConfig, uniqueEmail } from '../support/context'
import { unusedPort } from '../support/ports'

const limits = testConfig().items

/** Registers a user, signs it in and gives it an item, all on `db`: three repositories, one connection. */
async function userWithItem(db: Database, email: string, title: string) {
  const user = await createUsersRepository(db, limits).register({ email, hashed_password: 'x' })
  const origin = { userAgent: null, clientAddress: 'x' }
  const sessions = createSessionsRepository(db, { lifetimeDays: 1 })
  const sessionId = await sessions.start(String(user.id), 'x', newRefreshToken(), origin)
  const caller = { userId: String(user.id), sessionId: sessionId! }
  await createItemsRepository(db, limits).createAs(caller, caller.userId, { title })
  return { user, caller }
}

describe('Database.transaction', () => {
  const config = testConfig({ DATABASE_POOL_MAX: '3' })
  const sql = createSql(databaseUrl(), config.database, silentLogger)
  const db = createDatabase(sql, config.database)
  afterAll(() => sql.end({ timeout: 5 }))

  test('composes repositories on one connection, holds one permit throughout, and rolls back when it throws', async () => {
    const email = uniqueEmail('rollback')
    const title = `half-${crypto.randomUUID()}`
    const error = await db
      .transaction(async (tx) => {
        await userWithItem(tx, email, title)
        expect(db.gate.inFlight).toBe(1)
        throw new Error('fail after three writes')
      })
      .catch((e) => e)
    expect(error.message).toBe('fail after three writes')
    expect(db.gate.inFlight).toBe(0)
    expect(await sql`select 1 from users where email = ${email}`).toHaveLength(0)
    expect(await sql`select 1 from items where title = ${title}`).toHaveLength(0)
  })

  test('commits when it returns; a nested transaction is a savepoint', async () => {
    const email = uniqueEmail('commit')
    const user = await db.transaction(async (tx) => {
      const { user: created, caller } = await userWithItem(tx, email, 'kept')
      const nested = await tx
        .transaction((inner) =>
          createItemsRepository(inner, limits)
            .createAs(caller, caller.userId, { title: 'nested' })
            .then(() => Promise.reject(new Error('undo the item'))),
        )
        .catch((e: Error) => e.message)
      expect(nested).toBe('undo the item')
      return created
    })
    expect(await sql`select 1 from users where id = ${user.id}`).toHaveLength(1)
    expect([...(await sql`select title from items where owner_id = ${user.id}`)]).toEqual([{ title: 'kept' }])
    await sql`delete from users where id = ${user.id}`
  })
})

describe('what the database layer throws', () => {
  const config = testConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '50' })
  const sql = createSql(databaseUrl(), config.database, silentLogger)
  const db = createDatabase(sql, config.database)
  afterAll(() => sql.end({ timeout: 5 }))

  test('a value the database cannot hold is InvalidValueError (invalid_value)', async () => {
    const error = await db.query((q) => q`select ${'not a number'}::bigint`).catch((e) => e)
    expect(error).toBeInstanceOf(InvalidValueError)
    expect(error).toMatchObject({ code: 'invalid_value', message: 'Value is not valid for the database' })
  })

  test('inside a transaction too, where the code running it may look at it', async () => {
    let inside: unknown
    const outcome = await db
      .transaction(async (tx) => {
        inside = await tx.query((q) => q`select ${'not a number'}::bigint`).catch((e) => e)
      })
      .catch((e) => e)
    expect(inside).toBeInstanceOf(InvalidValueError)
    expect(inside).toMatchObject({ code: 'invalid_value' })
    // The failed statement aborted the transaction: it fails as a whole, with the same domain error.
    expect(outcome).toBeInstanceOf(InvalidValueError)
  })

  test('a statement past statement_timeout is UnavailableError (database_busy), worth a retry', async () => {
    const error = await db.query((q) => q`select pg_sleep(1)`).catch((e) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error).toMatchObject({ code: 'database_busy', retryAfterSeconds: 1 })
  })

  test('a database that cannot be reached is UnavailableError (database_unavailable)', async () => {
    const port = unusedPort()
    const down = testConfig({ DATABASE_URL: `postgres://nobody:pw@127.0.0.1:${port}/none` })
    const downSql = createSql(down.database.url!, down.database, silentLogger)
    try {
      const error = await createDatabase(downSql, down.database)
        .query((q) => q`select 1`)
        .catch((e) => e)
      expect(error).toBeInstanceOf(UnavailableError)
      expect(error).toMatchObject({ code: 'database_unavailable', retryAfterSeconds: 2 })
    } finally {
      await downSql.end({ timeout: 1 })
    }
  })

  test('anything it cannot explain passes through as it is: a bug, for the edge to answer 500', async () => {
    const error = await db.query((q) => q`select * from no_such_table`).catch((e) => e)
    expect(error).toBeInstanceOf(postgres.PostgresError)
    expect(error.code).toBe('42P01')
  })
})
