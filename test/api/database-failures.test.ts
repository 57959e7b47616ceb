// What clients get when the database is down, saturated or surprising: 503 with Retry-After
// when trying again makes sense, a generic 500 (the real error only in the log) when it does not.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres, { type Sql } from 'postgres'
import { type App, createApp } from '../../src/app'
import { createSql } from '../../src/db/client'
import { PING_TIMEOUT_MS } from '../../src/db/database'
import { createLogger } from '../../src/logger'
import { createTokenService } from '../../src/security/tokens'
import { silentLogger, testConfig, uniqueEmail } from '../support/context'
import { exclusivelyLocked, serviceQueriesWaitingForLock } from '../support/locks'
import { unusedPort } from '../support/ports'
import { createRelay, type Relay } from '../support/relay'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'
import { waitFor } from '../support/wait'

// Every app here shares one token service, and every call carries a well-signed token: what the
// database is asked (and whether it answers) is what these tests are about. The token's session
// exists nowhere, so a request the database does answer is a 401.
const tokens = createTokenService(testConfig().auth)
const { token } = await tokens.issue({ userId: '1', sessionId: crypto.randomUUID() })

const call = (app: App, method: string, path: string, json?: unknown) =>
  app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json !== undefined && { 'content-type': 'application/json' }) },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    }),
  )

describe('the database unreachable', () => {
  // A port nothing listens on: every connection attempt is refused at once.
  const port = unusedPort()
  const config = testConfig({
    DATABASE_URL: `postgres://nobody:secret-pw@127.0.0.1:${port}/none`,
    DATABASE_CONNECT_TIMEOUT_SECONDS: '1',
  })
  const sql = createSql(config.database.url!, config.database, silentLogger)
  const app = createApp({ sql, config, tokens })
  afterAll(() => sql.end({ timeout: 1 }))

  test.each([
    ['GET', '/users/1', undefined],
    ['GET', '/items/', undefined],
    ['POST', '/users/', { email: 'down@example.com', password: 'correct horse battery' }],
    ['POST', '/users/signup', { email: 'down@example.com', password: 'correct horse battery' }],
    ['GET', '/readyz', undefined],
  ])('%s %s is 503 with Retry-After, and the password is not in it', async (method, path, json) => {
    const response = await call(app, method, path, json)
    expect(response.status).toBe(503)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ detail: 'Database unavailable', code: 'database_unavailable' })
    expect(text).not.toContain('secret-pw')
  })

  test('/livez still answers 200', async () => {
    expect((await call(app, 'GET', '/livez')).status).toBe(200)
  })
})

describe('an outage', () => {
  let relay: Relay
  let sql: Sql
  let app: App
  const lines: string[] = []
  const logged = (msg: string) => lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === msg)
  beforeAll(async () => {
    relay = await createRelay()
    const config = testConfig({ DATABASE_URL: relay.url, DATABASE_CONNECT_TIMEOUT_SECONDS: '1' })
    sql = createSql(relay.url, config.database, silentLogger)
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) })
    app = createApp({ sql, config, logger, tokens })
  })
  afterAll(async () => {
    await sql?.end({ timeout: 1 })
    relay?.close()
  })

  /**
   * Milliseconds until `path` is answered as the database answers it (`status`). Not yet within 1 s
   * of its return: a connection attempt made while it was away can still wait out the connect
   * timeout (1 s here, 5 s by default) and fail the first request after it is back. That straggler
   * is issue 13's defect 2, still open; these bounds pin where it stands.
   */
  const RECOVERY_BOUND_MS = 1500
  const answeredWithin = async (path: string, status: number) => {
    const started = performance.now()
    await waitFor(`${path} to be ${status}`, async () => (await call(app, 'GET', path)).status === status)
    return performance.now() - started
  }

  test('is logged once when the database goes away, with its code and not the URL, and once when it is back', async () => {
    // The token's session exists nowhere: a 401 is the database answering.
    expect((await call(app, 'GET', '/users/1')).status).toBe(401)
    await relay.cut()
    for (let i = 0; i < 5; i++) expect((await call(app, 'GET', '/users/1')).status).toBe(503)
    expect((await call(app, 'GET', '/readyz')).status).toBe(503)
    const down = logged('database unreachable')
    expect(down).toHaveLength(1)
    expect(down[0]).toMatchObject({ level: 'warn', code: expect.stringMatching(/^[A-Z0-9_]+$/) })
    const password = new URL(relay.url).password
    if (password) expect(lines.join('\n')).not.toContain(password)
    expect(logged('database reachable again')).toHaveLength(0)

    await relay.restore()
    expect(await answeredWithin('/users/1', 401)).toBeLessThan(RECOVERY_BOUND_MS)
    expect((await call(app, 'GET', '/users/1')).status).toBe(401)
    const back = logged('database reachable again')
    expect(back).toHaveLength(1)
    expect(back[0]).toMatchObject({ level: 'info', down_ms: expect.any(Number) })
    expect(logged('database unreachable')).toHaveLength(1)
  })

  test('a readiness probe notices an outage, and the end of one, with no request at all', async () => {
    await answeredWithin('/readyz', 200)
    lines.length = 0
    await relay.cut()
    expect((await call(app, 'GET', '/readyz')).status).toBe(503)
    expect(logged('database unreachable')).toHaveLength(1)
    await relay.restore()
    expect(await answeredWithin('/readyz', 200)).toBeLessThan(RECOVERY_BOUND_MS)
    expect(logged('database reachable again')).toHaveLength(1)
  })
})

describe('an unexpected database error', () => {
  // A database without the migrations: every query fails with "relation does not exist".
  const lines: string[] = []
  let scratch: ScratchDatabase
  let sql: Sql
  let app: App
  beforeAll(async () => {
    scratch = await createScratchDatabase()
    const config = testConfig({ DATABASE_URL: scratch.url })
    sql = createSql(scratch.url, config.database, silentLogger)
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) })
    app = createApp({ sql, config, logger, tokens })
  })
  afterAll(async () => {
    await sql?.end({ timeout: 1 })
    await scratch?.drop()
  })

  test('is a 500 {"detail":"Internal Server Error"}; the real error is logged once, with the request id', async () => {
    const response = await app.handle(
      new Request('http://localhost/users/1', {
        headers: { 'x-request-id': 'trace-500', authorization: `Bearer ${token}` },
      }),
    )
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ detail: 'Internal Server Error', code: 'internal_error' })
    expect(text).not.toContain('relation')
    const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      request_id: 'trace-500',
      code: '42P01',
      message: expect.stringMatching(/relation "(users|sessions)" does not exist/),
    })
  })

  test('a sign-up that fails writes nothing and leaks no password into the log', async () => {
    lines.length = 0
    const response = await call(app, 'POST', '/users/signup', { email: uniqueEmail(), password: 'leak-me-not-123' })
    expect(response.status).toBe(500)
    expect(lines.join('\n')).not.toContain('leak-me-not-123')
    expect(lines.join('\n')).not.toContain('$argon2id$')
  })
})

describe('a saturated pool', () => {
  let scratch: ScratchDatabase
  let sql: Sql
  let app: App
  let admin: Sql
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrated: true })
    const config = testConfig({
      DATABASE_URL: scratch.url,
      DATABASE_POOL_MAX: '2',
      DATABASE_QUEUE_MAX: '2',
      DATABASE_QUEUE_TIMEOUT_MS: '300',
    })
    sql = createSql(scratch.url, config.database, silentLogger)
    app = createApp({ sql, config, tokens })
    admin = postgres(scratch.url, { max: 2, onnotice: () => {} })
  })
  afterAll(async () => {
    await sql?.end({ timeout: 1 })
    await admin?.end()
    await scratch?.drop()
  })

  test('never has more queries in flight than connections; the excess waits boundedly, then 503', async () => {
    const released = Promise.withResolvers<void>()
    // Hold a lock every request needs, so the first queries stay in flight.
    const lock = admin.begin(async (tx) => {
      await tx`lock table users in access exclusive mode`
      await released.promise
    })
    await waitFor('the test to hold its lock on users', () => exclusivelyLocked(admin, 'users'))

    const started = performance.now()
    const settled: { status: number; retry: string | null; at: number; body: unknown }[] = []
    const responses = Array.from({ length: 6 }, () =>
      call(app, 'GET', '/users/1').then(async (r) => {
        const at = performance.now() - started
        const result = { status: r.status, retry: r.headers.get('retry-after'), at, body: await r.json() }
        settled.push(result)
        return result
      }),
    )
    // Two queries take the two connections and block on the lock; two requests wait for a connection;
    // the wait list (two) being full, the last two are refused at once.
    await waitFor('two queries blocked on the lock', async () => (await serviceQueriesWaitingForLock(admin)) === 2)
    await waitFor('two requests refused', () => settled.length >= 2)
    expect(settled.map((r) => r.status)).toEqual([503, 503])
    for (const r of settled) expect(r.at).toBeLessThan(150)

    const [{ n }] = await admin<[{ n: number }]>`
      select count(*)::int as n from pg_stat_activity
      where datname = ${scratch.name} and application_name = 'users-service' and state = 'active'`
    expect(n).toBeLessThanOrEqual(2)

    // Readiness does not queue behind the gate.
    const ready = performance.now()
    expect((await call(app, 'GET', '/readyz')).status).toBe(200)
    expect(performance.now() - ready).toBeLessThan(250)

    // The two waiting give up after DATABASE_QUEUE_TIMEOUT_MS (300), still with nothing answered.
    await waitFor('the waiting requests to give up', () => settled.length >= 4)
    expect(settled.slice(2).map((r) => r.status)).toEqual([503, 503])
    for (const r of settled.slice(2)) expect(r.at).toBeGreaterThanOrEqual(290)
    expect(await serviceQueriesWaitingForLock(admin)).toBe(2)

    released.resolve()
    await lock
    const results = await Promise.all(responses)
    const shed = results.filter((r) => r.status === 503)
    expect(shed).toHaveLength(4)
    for (const r of shed) expect(Number(r.retry)).toBeGreaterThanOrEqual(1)
    for (const r of shed) expect(r.body).toEqual({ detail: 'Database busy, try again', code: 'database_busy' })
    // The two that got connections are answered by the database (the token's session does not exist).
    expect(results.filter((r) => r.status === 401)).toHaveLength(2)
  })
})

describe('a stalled database', () => {
  let relay: Relay
  let sql: Sql
  let app: App
  // One connection and a long deadline: readiness must not wait for the deadline to notice.
  let slowSql: Sql
  let slowApp: App
  beforeAll(async () => {
    relay = await createRelay()
    const config = testConfig({ DATABASE_URL: relay.url, DATABASE_POOL_MAX: '2', DATABASE_QUERY_TIMEOUT_MS: '500' })
    sql = createSql(relay.url, config.database, silentLogger)
    app = createApp({ sql, config, tokens })
    const slowConfig = testConfig({
      DATABASE_URL: relay.url,
      DATABASE_POOL_MAX: '1',
      DATABASE_QUERY_TIMEOUT_MS: '10000',
    })
    slowSql = createSql(relay.url, slowConfig.database, silentLogger)
    slowApp = createApp({ sql: slowSql, config: slowConfig, tokens })
  })
  afterAll(async () => {
    relay?.resume()
    await sql?.end({ timeout: 1 })
    await slowSql?.end({ timeout: 1 })
    relay?.close()
  })
  // Answered by the database with a 401: the token's session does not exist.
  const missing = '/users/9223372036854775807'

  test('requests get 503 with Retry-After at the query deadline, readiness turns 503, and both recover', async () => {
    expect((await call(app, 'GET', missing)).status).toBe(401)

    relay.pause()
    const started = performance.now()
    const stalled = await call(app, 'GET', missing)
    expect(stalled.status).toBe(503)
    expect(Number(stalled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await stalled.json()).toEqual({ detail: 'Database did not answer in time', code: 'database_timeout' })
    expect(performance.now() - started).toBeLessThan(1500)
    expect((await call(app, 'GET', '/readyz')).status).toBe(503)

    relay.resume()
    await waitFor('readiness to come back', async () => (await call(app, 'GET', '/readyz')).status === 200)
    expect((await call(app, 'GET', missing)).status).toBe(401)
    expect((await call(app, 'GET', '/readyz')).status).toBe(200)
  })

  test('with every connection held by a hung query, readiness is 503 well before the query deadline', async () => {
    expect((await call(slowApp, 'GET', missing)).status).toBe(401)
    relay.pause()
    const hungAt = performance.now()
    const hung = call(slowApp, 'GET', missing)
    // The token is checked first (asynchronously): readiness is asked once the query is on the wire.
    await waitFor('the query to reach the paused relay', () => relay.held > 0)
    // Each answer comes at once (readiness never waits behind the hung query); it turns 503 once the
    // query has hung for longer than readiness allows a database to take.
    const answer = await waitFor('readiness to turn 503', async () => {
      const asked = performance.now()
      const status = (await call(slowApp, 'GET', '/readyz')).status
      const ms = performance.now() - asked
      expect(ms).toBeLessThan(200)
      return status === 503 && { ms, after: performance.now() - hungAt }
    })
    // Not before the query has hung for PING_TIMEOUT_MS, and soon after: far from the 10 s query deadline.
    expect(answer.after).toBeGreaterThanOrEqual(PING_TIMEOUT_MS)
    expect(answer.after).toBeLessThan(PING_TIMEOUT_MS + 500)
    relay.resume()
    expect((await hung).status).toBe(401)
    expect((await call(slowApp, 'GET', '/readyz')).status).toBe(200)
  })
})
