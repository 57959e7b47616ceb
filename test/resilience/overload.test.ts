// Overload against the real process: 48 clients reading flat out against MAX_INFLIGHT=8. Every answer
// is a 200 or a 503 `overloaded` with Retry-After, never anything else; the probes keep answering;
// the refusals are logged once a second, not once each; and when the load ends no place stays
// taken: as many requests at once as the bound are all served. The rates and latencies go to the
// summary (how far latency stays bounded is measured by `bun run bench -- --overload`, not here).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { databaseUrl } from '../support/context'
import { report } from '../support/resilience-report'
import { type RunningService, type ServiceAccount, signUpOn, spawnService } from '../support/service'
import { waitFor } from '../support/wait'

setDefaultTimeout(60_000)

const BOUND = 8
const CLIENTS = 48
const SECONDS = 3
let service: RunningService
let admin: postgres.Sql
let account: ServiceAccount

beforeAll(async () => {
  admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} })
  service = await spawnService({
    env: { DATABASE_URL: databaseUrl(), NODE_ENV: 'production', MAX_INFLIGHT: String(BOUND) },
  })
  account = await signUpOn(service.url, 'overload')
})

afterAll(async () => {
  service?.process.kill('SIGKILL')
  if (admin) {
    if (account) await admin`delete from users where id = ${account.id}`
    await admin.end()
  }
})

interface Answer {
  status: number | 'no answer'
  ms: number
  retryAfter: string | null
  body: unknown
}

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)]!
}

describe('overload', () => {
  test('past MAX_INFLIGHT: 200 or 503 overloaded only, probes answer, one log line a second, no place kept', async () => {
    const read = async (): Promise<Answer> => {
      const started = performance.now()
      try {
        const res = await fetch(`${service.url}/users/${account.id}`, {
          headers: { authorization: `Bearer ${account.token}` },
        })
        const body = await res.json()
        return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), body }
      } catch {
        return { status: 'no answer', ms: performance.now() - started, retryAfter: null, body: null }
      }
    }
    const answers: Answer[] = []
    const probes: number[] = []
    const until = performance.now() + SECONDS * 1000
    const client = async () => {
      while (performance.now() < until) answers.push(await read())
    }
    const prober = async () => {
      while (performance.now() < until) {
        probes.push((await fetch(`${service.url}/readyz`)).status)
        await Bun.sleep(50)
      }
    }
    const logLinesBefore = service.output.length
    await Promise.all([...Array.from({ length: CLIENTS }, client), prober()])

    const accepted = answers.filter((a) => a.status === 200)
    const refused = answers.filter((a) => a.status === 503)
    const peakMiB =
      Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${service.process.pid}/status`, 'utf8'))?.[1]) / 1024
    report('Overload: 48 clients flat out, MAX_INFLIGHT=8 (test/resilience/overload.test.ts)', {
      requests: answers.length,
      'accepted req/s': Math.round(accepted.length / SECONDS),
      'refused %': Number(((refused.length / answers.length) * 100).toFixed(1)),
      'accepted p99 ms': Number(
        percentile(
          accepted.map((a) => a.ms),
          0.99,
        ).toFixed(1),
      ),
      'refusal p99 ms': Number(
        percentile(
          refused.map((a) => a.ms),
          0.99,
        ).toFixed(1),
      ),
      'peak RSS MiB': Math.round(peakMiB),
    })

    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([])
    expect(accepted.length).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    for (const a of accepted) expect((a.body as { id: number }).id).toBe(account.id)
    for (const a of refused) {
      expect(a.retryAfter).toBe('1')
      expect(a.body).toEqual({ detail: 'The service is at capacity, try again', code: 'overloaded' })
    }
    expect(probes.length).toBeGreaterThan(0)
    expect(probes.filter((status) => status !== 200)).toEqual([])

    // No place is kept once the answers are out: the bound's worth at once, all served.
    const after = await Promise.all(Array.from({ length: BOUND }, read))
    expect(after.map((a) => a.status)).toEqual(Array(BOUND).fill(200))

    // Refusals are counted in one line a second while they last, not logged each: every one of them.
    const warnings = () => service.output.slice(logLinesBefore).filter((line) => line.includes('over MAX_INFLIGHT'))
    const logged = () => warnings().reduce((sum, line) => sum + (JSON.parse(line) as { refused: number }).refused, 0)
    await waitFor('the last count of refusals in the log', () => logged() === refused.length)
    expect(warnings().length).toBeLessThanOrEqual(SECONDS + 2)
    const log = service.output.join('\n')
    for (const secret of [account.token, account.password, '$argon2'])
      expect({ secret: secret.slice(0, 4), logged: log.includes(secret) }).toEqual({
        secret: secret.slice(0, 4),
        logged: false,
      })
  })
})
