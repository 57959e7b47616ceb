// SIGTERM while 8 clients write flat out over keep-alive connections: /readyz turns 503 at once,
// requests keep being served through the drain window, whatever was in flight finishes, and no
// write is ever committed without its answer reaching the client: every item a client got no
// answer for is absent. The service exits 0 within SHUTDOWN_TIMEOUT_SECONDS.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import postgres from 'postgres'
import { databaseUrl } from '../support/context'
import { report } from '../support/resilience-report'
import { type RunningService, signUpOn, spawnService } from '../support/service'

setDefaultTimeout(60_000)

const DRAIN_SECONDS = 1
const SHUTDOWN_TIMEOUT_SECONDS = 10
let service: RunningService
let admin: postgres.Sql
let token: string
let userId: number
let password: string

beforeAll(async () => {
  admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} })
  service = await spawnService({
    env: {
      DATABASE_URL: databaseUrl(),
      NODE_ENV: 'production',
      SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
      SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      MAX_ITEMS_PER_USER: '1000000',
    },
  })
  ;({ id: userId, password, token } = await signUpOn(service.url, 'drain'))
})

afterAll(async () => {
  service?.process.kill('SIGKILL')
  if (admin) {
    if (userId !== undefined) await admin`delete from users where id = ${userId}`
    await admin.end()
  }
})

interface Outcome {
  title: string
  started: number
  status: number | 'no answer'
}

describe('SIGTERM under load', () => {
  test('readiness turns at once, the drain serves, nothing committed goes unanswered, exit 0 in time', async () => {
    const run = crypto.randomUUID().slice(0, 8)
    const outcomes: Outcome[] = []
    let running = true
    const writer = async (n: number) => {
      for (let i = 0; running; i++) {
        const title = `${run} w${n}-${i}`
        const started = performance.now()
        try {
          const res = await fetch(`${service.url}/items/`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title }),
          })
          await res.text()
          outcomes.push({ title, started, status: res.status })
        } catch {
          outcomes.push({ title, started, status: 'no answer' })
          await Bun.sleep(20)
        }
      }
    }
    const writers = Promise.all(Array.from({ length: 8 }, (_, n) => writer(n)))
    await Bun.sleep(1000)

    const signalled = performance.now()
    service.process.kill('SIGTERM')
    let readyAt = Number.POSITIVE_INFINITY
    for (let i = 0; i < 50; i++) {
      const ready = await fetch(`${service.url}/readyz`).catch(() => undefined)
      if (ready?.status === 503) {
        readyAt = performance.now() - signalled
        break
      }
      await Bun.sleep(10)
    }
    const exitCode = await service.exited
    const exitedAfter = performance.now() - signalled
    // The clients go on a moment against the closed port, then stop.
    await Bun.sleep(300)
    running = false
    await writers

    const answered = outcomes.filter((o) => typeof o.status === 'number')
    const created = answered.filter((o) => o.status === 201).map((o) => o.title)
    const unanswered = outcomes.filter((o) => o.status === 'no answer' || o.status !== 201).map((o) => o.title)
    const stored = new Set(
      (await admin<{ title: string }[]>`select title from items where title like ${`${run} %`}`).map((r) => r.title),
    )
    const duringDrain = outcomes.filter((o) => o.started > signalled && o.started < signalled + DRAIN_SECONDS * 900)
    report('SIGTERM under 8 writers (test/resilience/shutdown-under-load.test.ts)', {
      requests: outcomes.length,
      acknowledged: created.length,
      'not answered or refused': unanswered.length,
      'committed but unanswered': unanswered.filter((title) => stored.has(title)).length,
      'readyz 503 after, ms': Math.round(readyAt),
      'exit code': exitCode,
      'exited after, ms': Math.round(exitedAfter),
    })
    expect(readyAt).toBeLessThan(200)
    // The drain window serves: requests begun in it were answered, and written.
    expect(duringDrain.length).toBeGreaterThan(10)
    expect(duringDrain.filter((o) => o.status !== 201)).toEqual([])
    for (const title of created) expect(stored.has(title)).toBe(true)
    expect(unanswered.filter((title) => stored.has(title))).toEqual([])
    expect(stored.size).toBe(created.length)
    expect(exitCode).toBe(0)
    const log = service.output.join('\n')
    for (const secret of [token, password, '$argon2', decodeURIComponent(new URL(databaseUrl()).password)])
      expect({ secret: secret.slice(0, 4), logged: log.includes(secret) }).toEqual({
        secret: secret.slice(0, 4),
        logged: false,
      })
    expect(exitedAfter).toBeLessThan((DRAIN_SECONDS + SHUTDOWN_TIMEOUT_SECONDS) * 1000)
  })
})
