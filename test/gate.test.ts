// The gate in front of the pool (and of password hashing): at most `permits` tasks run, a bounded
// number wait for a bounded time, the rest get 503. A transaction holds one permit throughout and
// is all or nothing.
import { afterAll, describe, expect, test } from 'bun:test'
import { createSql } from '../src/db/client'
import { createDatabase } from '../src/db/database'
import { ServiceUnavailableError } from '../src/errors'
import { Gate } from '../src/gate'
import { createItemsRepository } from '../src/modules/items/repository'
import { createUsersRepository } from '../src/modules/users/repository'
import { databaseUrl, silentLogger, testConfig, uniqueEmail } from './support/context'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('Gate', () => {
  test('runs at most `permits` tasks at once, in arrival order', async () => {
    const gate = new Gate({ permits: 2, maxWaiting: 10, maxWaitMs: 1000, busyDetail: 'busy' })
    let running = 0
    let peak = 0
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        gate.run(async () => {
          running++
          peak = Math.max(peak, running)
          order.push(i)
          await Bun.sleep(5)
          running--
        }),
      ),
    )
    expect(peak).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(gate.inFlight).toBe(0)
  })

  test('a full wait list refuses at once; a wait past maxWaitMs refuses; both are 503 with Retry-After', async () => {
    const gate = new Gate({ permits: 1, maxWaiting: 1, maxWaitMs: 100, busyDetail: 'Database busy, try again' })
    const hold = deferred()
    const first = gate.run(() => hold.promise)
    const started = performance.now()
    const waiting = gate.run(async () => 'never').catch((e) => [e, performance.now() - started] as const)
    const refused = await gate.run(async () => 'never').catch((e) => e)
    expect(refused).toBeInstanceOf(ServiceUnavailableError)
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(gate.waiting).toBe(1)

    const [timedOut, after] = await waiting
    expect(timedOut).toBeInstanceOf(ServiceUnavailableError)
    expect(after).toBeGreaterThanOrEqual(90)
    expect(gate.waiting).toBe(0)
    hold.resolve()
    await first
    expect(gate.inFlight).toBe(0)
  })

  test('runIfFree never waits', async () => {
    const gate = new Gate({ permits: 1, maxWaiting: 5, maxWaitMs: 1000, busyDetail: 'busy' })
    const hold = deferred()
    const first = gate.run(() => hold.promise)
    expect(await gate.runIfFree(async () => 'ran')).toBeUndefined()
    hold.resolve()
    await first
    expect(await gate.runIfFree(async () => 'ran')).toBe('ran')
  })

  test('a failing task gives its permit back', async () => {
    const gate = new Gate({ permits: 1, maxWaiting: 0, maxWaitMs: 10, busyDetail: 'busy' })
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await gate.run(async () => 'ok')).toBe('ok')
  })
})

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
