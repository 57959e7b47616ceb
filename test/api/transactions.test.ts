// Database.transaction: a transaction holds one permit of the gate throughout and is all or nothing.
import { afterAll, describe, expect, test } from 'bun:test'
import { createSql } from '../../src/db/client'
import { createDatabase } from '../../src/db/database'
import { createItemsRepository } from '../../src/modules/items/repository'
import { createUsersRepository } from '../../src/modules/users/repository'
import { databaseUrl, silentLogger, testConfig, uniqueEmail } from '../support/context'

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
        const user = await createUsersRepository(tx).createUser({ email, hashed_password: 'x' })
        await createItemsRepository(tx).createItem(String(user.id), { title })
        expect(db.gate.inFlight).toBe(1)
        throw new Error('fail after two writes')
      })
      .catch((e) => e)
    expect(error.message).toBe('fail after two writes')
    expect(db.gate.inFlight).toBe(0)
    expect(await sql`select 1 from users where email = ${email}`).toHaveLength(0)
    expect(await sql`select 1 from items where title = ${title}`).toHaveLength(0)
  })

  test('commits when it returns; a nested transaction is a savepoint', async () => {
    const email = uniqueEmail('commit')
    const user = await db.transaction(async (tx) => {
      const users = createUsersRepository(tx)
      const created = await users.createUser({ email, hashed_password: 'x' })
      const nested = await tx
        .transaction((inner) =>
          createItemsRepository(inner)
            .createItem(String(created.id), { title: 'nested' })
            .then(() => Promise.reject(new Error('undo the item'))),
        )
        .catch((e: Error) => e.message)
      expect(nested).toBe('undo the item')
      return created
    })
    expect(await sql`select 1 from users where id = ${user.id}`).toHaveLength(1)
    expect(await sql`select 1 from items where owner_id = ${user.id}`).toHaveLength(0)
    await sql`delete from users where id = ${user.id}`
  })
})
