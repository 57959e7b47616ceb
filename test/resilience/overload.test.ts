// Overload against the real process: 48 clients reading flat out for 10 s against MAX_INFLIGHT=8.
// Every answer is a 200 or a 503 `overloaded` with Retry-After, never anything else; the probes keep
// answering; the refusals are logged once a second, not once each; and when the load ends no place
// stays taken: as many requests at once as the bound are all served. The rates, latencies and the
// service's RSS second by second go to the summary (how far latency and memory stay bounded is
// measured by `bun run bench -- --overload` and `--soak`, not here).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import postgres from 'postgres'
import { percentile } from '../../bench/load'
import { rssMiB } from '../../bench/processes'
import { databaseUrl } from '../support/context'
import { report } from '../support/resilience-report'
import { type RunningService, type ServiceAccount, signUpOn, spawnService } from '../support/service'
import { waitFor } from '../support/wait'

setDefaultTimeout(60_000)

const BOUND = 8
const CLIENTS = 48
const SECONDS = 10
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
  /** What was wrong with it, if anything. */
  wrong?: string
}

const REFUSAL = JSON.stringify({ detail: 'The service is at capacity, try again', code: 'overloaded' })
const p99 = (answers: Answer[]) =>
  Number(
    percentile(
      answers.map((a) => a.ms).sort((a, b) => a - b),
      0.99,
    ).toFixed(1),
  )

/** What is wrong with an answer to GET /users/{id} under overload, if anything. */
function problemWith(status: number, body: string, retryAfter: string | null, id: number): string | undefined {
  if (status === 200) return (JSON.parse(body) as { id: number }).id === id ? undefined : body
  if (status === 503) return body === REFUSAL && retryAfter === '1' ? undefined : `${body} retry-after ${retryAfter}`
  return `${status} ${body}`
}

describe('overload', () => {
  test('past MAX_INFLIGHT: 200 or 503 overloaded only, probes answer, one log line a second, no place kept', async () => {
    // Each answer is checked as it comes and only its verdict kept: 100,000 bodies would weigh on the
    // test process and so on what it measures.
    const read = async (): Promise<Answer> => {
      const started = performance.now()
      try {
        const res = await fetch(`${service.url}/users/${account.id}`, {
          headers: { authorization: `Bearer ${account.token}` },
        })
        const body = await res.text()
        const ms = performance.now() - started
        const wrong = problemWith(res.status, body, res.headers.get('retry-after'), account.id)
        return { status: res.status, ms, wrong }
      } catch (error) {
        return { status: 'no answer', ms: performance.now() - started, wrong: String(error) }
      }
    }
    const answers: Answer[] = []
    const probes: number[] = []
    const began = performance.now()
    const until = began + SECONDS * 1000
    const client = async () => {
      while (performance.now() < until) answers.push(await read())
    }
    const prober = async () => {
      while (performance.now() < until) {
        probes.push((await fetch(`${service.url}/readyz`)).status)
        await Bun.sleep(50)
      }
    }
    const rss: number[] = []
    const sampler = setInterval(() => rss.push(rssMiB(service.process.pid)), 1000)
    const logLinesBefore = service.output.length
    await Promise.all([...Array.from({ length: CLIENTS }, client), prober()])
    const elapsed = (performance.now() - began) / 1000
    clearInterval(sampler)

    const accepted = answers.filter((a) => a.status === 200)
    const refused = answers.filter((a) => a.status === 503)
    report('Overload: 48 clients flat out, MAX_INFLIGHT=8 (test/resilience/overload.test.ts)', {
      requests: answers.length,
      'accepted req/s': Math.round(accepted.length / elapsed),
      'refused %': Number(((refused.length / answers.length) * 100).toFixed(1)),
      'accepted p99 ms': p99(accepted),
      'refusal p99 ms': p99(refused),
      'RSS MiB, each second': rss.map(Math.round).join(' '),
    })

    expect(answers.filter((a) => a.wrong !== undefined).slice(0, 5)).toEqual([])
    expect(accepted.length).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    expect(probes.length).toBeGreaterThan(0)
    expect(probes.filter((status) => status !== 200)).toEqual([])

    // No place is kept once the answers are out: the bound's worth at once, all served.
    const after = await Promise.all(Array.from({ length: BOUND }, read))
    expect(after.map((a) => a.status)).toEqual(Array(BOUND).fill(200))
    expect(after.filter((a) => a.wrong !== undefined)).toEqual([])

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
