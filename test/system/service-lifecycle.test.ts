// The entry point as an operator meets it: bad settings stop it with a message, pending
// migrations stop it naming them, SIGTERM drains (readiness 503, in-flight requests finish) and
// exits 0.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { MIGRATIONS_DIR, runDbmate } from '../../src/db/migrations'
import { exclusivelyLocked, serviceQueriesWaitingForLock } from '../support/locks'
import { unusedPort } from '../support/ports'
import { createRelay, type Relay } from '../support/relay'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'
import {
  PROJECT_DIR,
  type RunningService,
  rawHttp,
  runServiceToExit,
  runToExit,
  serviceToken,
  signUpOn,
  spawnService,
} from '../support/service'
import { waitFor } from '../support/wait'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

describe('configuration', () => {
  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MAX_BODY_BYTES: '-5' }, 'MAX_BODY_BYTES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DATABASE_PREPARE: 'maybe' }, 'DATABASE_PREPARE'],
    [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
    [{ PASSWORD_HASH_MEMORY_KIB: '1024' }, 'PASSWORD_HASH_MEMORY_KIB'],
    [{ IDLE_TIMEOUT_SECONDS: '15' }, 'IDLE_TIMEOUT_SECONDS'],
  ])('%j stops the service with a message naming the setting', async (env, name) => {
    const { exitCode, output } = await runServiceToExit(env)
    expect(exitCode).toBe(1)
    expect(output).toContain('Invalid configuration')
    expect(output).toContain(name)
  })

  test('NODE_ENV=production without DATABASE_URL refuses to start, naming DATABASE_URL, and starts no database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'production-no-url-'))
    try {
      const { exitCode, output } = await runServiceToExit({ NODE_ENV: 'production', DATA_DIR: join(dataDir, '.data') })
      expect(exitCode).toBe(1)
      expect(output).toContain('DATABASE_URL must be set when NODE_ENV=production')
      expect(output).not.toContain('PostgreSQL ready')
      expect(existsSync(join(dataDir, '.data'))).toBe(false)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  test('NODE_ENV=production without SECRET_KEY, or with a short key, refuses to start, never echoing the key', async () => {
    const url = 'postgres://u:p@127.0.0.1:1/none'
    const missing = await runServiceToExit({ NODE_ENV: 'production', DATABASE_URL: url, SECRET_KEY: '' })
    expect(missing.exitCode).toBe(1)
    expect(missing.output).toContain('SECRET_KEY must be set when NODE_ENV=production')
    const short = await runServiceToExit({ NODE_ENV: 'production', DATABASE_URL: url, SECRET_KEY: 'tiny-secret' })
    expect(short.exitCode).toBe(1)
    expect(short.output).toContain("SECRET_KEY's key #1 must be at least 32 bytes")
    expect(short.output).not.toContain('tiny-secret')
  })

  test('a malformed DATABASE_URL is named but never echoed (it may hold a password)', async () => {
    const { exitCode, output } = await runServiceToExit({ DATABASE_URL: 'mysql://admin:hunter2@db/app' })
    expect(exitCode).toBe(1)
    expect(output).toContain('DATABASE_URL')
    expect(output).not.toContain('hunter2')
  })
})

describe('pending migrations', () => {
  let scratch: ScratchDatabase
  beforeAll(async () => {
    scratch = await createScratchDatabase()
  })
  afterAll(() => scratch?.drop())

  test('with DATABASE_URL the service refuses to start while migrations are pending, naming them', async () => {
    const none = await runServiceToExit({ DATABASE_URL: scratch.url, DATABASE_START_TIMEOUT_SECONDS: '1' })
    expect(none.exitCode).toBe(1)
    expect(none.output).toContain('20261125090000_create_users.sql')
    expect(none.output).toContain('20261125090100_create_items.sql')
    expect(none.output).toContain('bun run db:migrate')

    expect((await runDbmate(['--no-dump-schema', 'up'], scratch.url)).exitCode).toBe(0)
    expect((await runDbmate(['--no-dump-schema', 'rollback'], scratch.url)).exitCode).toBe(0)
    const one = await runServiceToExit({ DATABASE_URL: scratch.url, DATABASE_START_TIMEOUT_SECONDS: '1' })
    expect(one.exitCode).toBe(1)
    expect(one.output).not.toContain('20261125090000_create_users.sql')
    expect(one.output).toContain(readdirSync(MIGRATIONS_DIR).sort().at(-1)!)
  })
})

describe('the database down at start', () => {
  test('the service waits for it: /livez 200, the rest 503 with Retry-After, then it serves once it is up', async () => {
    const relay = await createRelay()
    await relay.cut()
    const port = unusedPort()
    const base = `http://127.0.0.1:${port}`
    const starting = spawnService({ env: { DATABASE_URL: relay.url, PORT: String(port) } })
    let service: RunningService | undefined
    try {
      await waitFor('the service to answer /livez', async () => (await fetch(`${base}/livez`).catch(() => null))?.ok)
      const ready = await fetch(`${base}/readyz`)
      expect(ready.status).toBe(503)
      const other = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${await serviceToken()}` } })
      expect(other.status).toBe(503)
      expect(other.headers.get('retry-after')).toBe('2')
      expect(await other.json()).toEqual({ detail: 'Database unavailable', code: 'database_unavailable' })

      await relay.restore()
      service = await starting
      expect((await fetch(`${base}/readyz`)).status).toBe(200)
      const served = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${await serviceToken()}` } })
      expect(served.status).toBe(401)
      const waiting = service.output.filter((line) => line.includes('waiting for the database'))
      expect(waiting).toHaveLength(1)
      expect(waiting[0]).toContain('ECONNREFUSED')
      const { hostname, port: relayPort } = new URL(relay.url)
      expect(waiting[0]).toContain(`${hostname}:${relayPort}/`)
      const password = new URL(relay.url).password
      if (password) expect(service.output.join('\n')).not.toContain(password)
    } finally {
      service?.process.kill('SIGTERM')
      if (!service) (await starting.catch(() => undefined))?.process.kill('SIGKILL')
      await service?.exited
      relay.close()
    }
  })

  test('past DATABASE_START_TIMEOUT_SECONDS it exits 1, naming the database but not its password', async () => {
    const port = unusedPort()
    const url = new URL(process.env.TEST_DATABASE_URL!)
    url.port = String(port)
    url.password = 'never-echo-me'
    const { exitCode, output } = await runServiceToExit({
      DATABASE_URL: url.toString(),
      DATABASE_START_TIMEOUT_SECONDS: '1',
    })
    expect(exitCode).toBe(1)
    expect(output).toContain(`The database at ${url.hostname}:${port}/`)
    expect(output).toContain('was not ready within DATABASE_START_TIMEOUT_SECONDS (1 s): unreachable (ECONNREFUSED)')
    expect(output).not.toContain('never-echo-me')
  })
})

describe('shutdown', () => {
  let scratch: ScratchDatabase
  let admin: postgres.Sql
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrated: true })
    admin = postgres(scratch.url, { max: 2, onnotice: () => {} })
  })
  afterAll(async () => {
    await admin?.end()
    await scratch?.drop()
  })

  test('SIGTERM: /readyz turns 503 for the drain window, in-flight requests finish, new ones are refused, exit 0', async () => {
    const service = await spawnService({
      env: { DATABASE_URL: scratch.url, NODE_ENV: 'production', SHUTDOWN_DRAIN_SECONDS: '1' },
    })
    try {
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200)

      // An in-flight request: it waits on a lock this test holds.
      const released = Promise.withResolvers<void>()
      const lock = admin.begin(async (tx) => {
        await tx`lock table users in access exclusive mode`
        await released.promise
      })
      await waitFor('the test to hold its lock on users', () => exclusivelyLocked(admin, 'users'))
      const inFlight = fetch(`${service.url}/users/1`, { headers: { authorization: `Bearer ${await serviceToken()}` } })
      await waitFor('the request to wait on the lock', async () => (await serviceQueriesWaitingForLock(admin)) === 1)

      const signalled = performance.now()
      service.process.kill('SIGTERM')
      await waitFor('the service to start shutting down', () =>
        service.output.some((line) => line.includes('shutting down')),
      )
      const draining = await fetch(`${service.url}/readyz`)
      expect(draining.status).toBe(503)
      expect(Number(draining.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await draining.json()).toEqual({ detail: 'Shutting down', code: 'shutting_down' })
      expect((await fetch(`${service.url}/livez`)).status).toBe(200)

      // After the drain window (1 s), new connections are refused while the in-flight request still runs.
      const refused = () =>
        fetch(`${service.url}/livez`, { keepalive: false }).then(
          () => false,
          () => true,
        )
      await waitFor('new connections to be refused', refused, { timeoutMs: 5_000 })
      const refusedAfter = performance.now() - signalled
      expect(refusedAfter).toBeGreaterThanOrEqual(1_000)
      expect(refusedAfter).toBeLessThan(2_000)
      expect(await serviceQueriesWaitingForLock(admin)).toBe(1)

      released.resolve()
      await lock
      // Answered by the database (the token's session exists nowhere): the request finished.
      expect((await inFlight).status).toBe(401)
      expect(await service.exited).toBe(0)

      const logs = service.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
      expect(logs.map((entry) => entry.msg)).toContain('shutting down')
      expect(logs.at(-1)?.msg).toBe('stopped')
    } finally {
      service.process.kill('SIGKILL')
    }
  })
})

describe('served over HTTP', () => {
  const traceLoads = join(import.meta.dir, '..', 'support', 'trace-embedded-load.ts')
  let scratch: ScratchDatabase
  let service: RunningService
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrated: true })
    service = await spawnService({
      command: ['bun', '--preload', traceLoads, join(PROJECT_DIR, 'src', 'index.ts')],
      env: {
        DATABASE_URL: scratch.url,
        NODE_ENV: 'production',
        MAX_BODY_BYTES: '1000',
        SHUTDOWN_DRAIN_SECONDS: '0',
        FIRST_SUPERUSER_EMAIL: 'root@example.com',
        FIRST_SUPERUSER_PASSWORD: 'root-password-8f3a',
      },
    })
  })
  afterAll(async () => {
    service?.process.kill('SIGTERM')
    await service?.exited
    await scratch?.drop()
  })

  test('the first superuser is made at start and logs in; its password is in no log line', async () => {
    const login = await fetch(`${service.url}/login/access-token`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'root@example.com', password: 'root-password-8f3a' }),
    })
    expect(login.status).toBe(200)
    const { access_token } = (await login.json()) as { access_token: string }
    const users = await fetch(`${service.url}/users/?limit=1`, { headers: { authorization: `Bearer ${access_token}` } })
    expect(users.status).toBe(200)
    expect(users.headers.get('x-total-count')).toBe('1')
    const log = service.output.join('\n')
    expect(log).toContain('first superuser created')
    expect(log).not.toContain('root-password-8f3a')
    expect(log).not.toContain(access_token)
  })

  test('with DATABASE_URL, not one file of the embedded PostgreSQL module is loaded', async () => {
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200)
    expect(service.output.filter((line) => line.startsWith('LOADED'))).toEqual([])
    // The trace does see the module where it is loaded.
    const loaded = await runToExit(['bun', '--preload', traceLoads, '-e', "await import('./src/embedded-postgres')"], {
      env: {},
    })
    expect(loaded.output).toContain(`LOADED ${join(PROJECT_DIR, 'src', 'embedded-postgres', 'index.ts')}`)
  })

  test('a body over MAX_BODY_BYTES gets the JSON 413, not an empty one from Bun', async () => {
    const response = await fetch(`${service.url}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(5_000_000) }),
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ detail: 'Request body is larger than 1000 bytes', code: 'body_too_large' })
  })

  test('HEAD has headers and no body', async () => {
    const response = await fetch(`${service.url}/livez`, { method: 'HEAD' })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })

  test('a client that stalls mid-request is disconnected after IDLE_TIMEOUT_SECONDS', async () => {
    // Its own service: a short idle timeout could also cut the other tests' requests (Bun's timer is
    // coarse), and it is only allowed without a query deadline (see config.ts).
    const idle = await spawnService({
      env: { DATABASE_URL: scratch.url, IDLE_TIMEOUT_SECONDS: '2', DATABASE_QUERY_TIMEOUT_MS: '0' },
    })
    const { hostname, port } = new URL(idle.url)
    const closed = Promise.withResolvers<number>()
    const opened = performance.now()
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: { data() {}, close: () => closed.resolve(performance.now() - opened) },
    })
    socket.write(
      'POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"em',
    )
    const after = await Promise.race([closed.promise, Bun.sleep(7000).then(() => Infinity)])
    socket.end()
    idle.process.kill('SIGTERM')
    expect(await idle.exited).toBe(0)
    expect(after).toBeLessThan(7000)
  })

  test('short Host headers and none at all are served like any other (Elysia assumes 4+ characters)', async () => {
    const email = `host-${crypto.randomUUID()}@example.com`
    const body = JSON.stringify({ email, password: 'correct horse battery' })
    const created = await rawHttp(
      service.url,
      `POST /users/signup HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    )
    expect(created).toStartWith('HTTP/1.1 201')
    const form = new URLSearchParams({ username: email, password: 'correct horse battery' }).toString()
    const login = await rawHttp(
      service.url,
      `POST /login/access-token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`,
    )
    expect(login).toStartWith('HTTP/1.1 200')
    const token = /"access_token":"([^"]+)"/.exec(login)![1]
    expect(
      await rawHttp(
        service.url,
        `GET /items/ HTTP/1.1\r\nHost:\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      ),
    ).toStartWith('HTTP/1.1 200')
    // An HTTP/1.0 health check without Host, as load balancers send it.
    expect(await rawHttp(service.url, 'GET /livez HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.[01] 200/)
    expect(await rawHttp(service.url, 'OPTIONS / HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.[01] 404/)
    expect((await fetch(`${service.url}/livez`)).status).toBe(200)
  })

  test('production logs are JSON lines with the request id, one per request', async () => {
    await fetch(`${service.url}/livez`, { headers: { 'x-request-id': 'prod-log-check' } })
    const logged = () => service.output.filter((line) => line.includes('prod-log-check'))
    const lines = await waitFor('the access line', () => logged().length > 0 && logged())
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      path: '/livez',
      status: 200,
      request_id: 'prod-log-check',
    })
  })
})

describe('WORKERS', () => {
  let scratch: ScratchDatabase
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrated: true })
  })
  afterAll(() => scratch?.drop())

  test('WORKERS=2: two processes serve one port with one signing key; SIGTERM stops them all, exit 0', async () => {
    const service = await spawnService({
      env: { DATABASE_URL: scratch.url, WORKERS: '2', SECRET_KEY: '', SHUTDOWN_DRAIN_SECONDS: '0' },
    })
    try {
      const workers = () =>
        readFileSync(`/proc/${service.process.pid}/task/${service.process.pid}/children`, 'utf8')
          .split(/\s+/)
          .filter(Boolean)
      await waitFor(
        'two workers listening',
        () => service.output.filter((line) => line.includes('listening')).length === 2,
      )
      expect(workers()).toHaveLength(2)
      const { token: access_token } = await signUpOn(service.url, 'workers')
      // Fresh connections land on either worker: a token one signed works on both.
      for (let i = 0; i < 8; i++) {
        const me = await fetch(`${service.url}/users/me`, {
          headers: { authorization: `Bearer ${access_token}` },
          keepalive: false,
        })
        expect(me.status).toBe(200)
      }
      const pids = workers()
      service.process.kill('SIGTERM')
      expect(await service.exited).toBe(0)
      for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false)
    } finally {
      service.process.kill('SIGKILL')
    }
  })

  test('workers whose primary is killed (SIGKILL: no chance to stop them) stop by themselves', async () => {
    const service = await spawnService({
      env: { DATABASE_URL: scratch.url, WORKERS: '2', SHUTDOWN_DRAIN_SECONDS: '0' },
    })
    await waitFor(
      'two workers listening',
      () => service.output.filter((line) => line.includes('listening')).length === 2,
    )
    const pids = readFileSync(`/proc/${service.process.pid}/task/${service.process.pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
    expect(pids).toHaveLength(2)
    service.process.kill('SIGKILL')
    await service.exited
    await waitFor('the workers to exit', () => pids.every((pid) => !existsSync(`/proc/${pid}`)), { timeoutMs: 10_000 })
    const answered = await fetch(`${service.url}/livez`, { keepalive: false }).then(
      () => true,
      () => false,
    )
    expect(answered).toBe(false)
  })

  test('more connections than PostgreSQL allows refuses to start, naming the numbers', async () => {
    const { exitCode, output } = await runServiceToExit({
      DATABASE_URL: scratch.url,
      WORKERS: '20',
      DATABASE_POOL_MAX: '10',
    })
    expect(exitCode).toBe(1)
    expect(output).toContain('WORKERS x DATABASE_POOL_MAX = 20 x 10 connections, but PostgreSQL allows')
  })
})

describe('a stalled database, over HTTP', () => {
  let relay: Relay
  let service: RunningService
  beforeAll(async () => {
    relay = await createRelay()
    service = await spawnService({
      env: {
        DATABASE_URL: relay.url,
        IDLE_TIMEOUT_SECONDS: '8',
        DATABASE_QUERY_TIMEOUT_MS: '500',
        DATABASE_QUEUE_TIMEOUT_MS: '500',
        PASSWORD_HASH_QUEUE_TIMEOUT_MS: '500',
      },
    })
  })
  afterAll(async () => {
    relay?.resume()
    service?.process.kill('SIGTERM')
    await service?.exited
    relay?.close()
  })

  test('the client gets the JSON 503 with Retry-After, not a reset connection', async () => {
    relay.pause()
    // A fresh connection, and the service's own words if it fails: this test runs late in a long file.
    const headers = { authorization: `Bearer ${await serviceToken()}` }
    const response = await fetch(`${service.url}/users/9223372036854775807`, { keepalive: false, headers }).catch(
      (error) => {
        throw new Error(
          `${error} (service exit code: ${service.process.exitCode}); its output:\n${service.output.join('\n')}`,
        )
      },
    )
    expect(response.status).toBe(503)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await response.json()).toEqual({ detail: 'Database did not answer in time', code: 'database_timeout' })
    relay.resume()
  })
})
