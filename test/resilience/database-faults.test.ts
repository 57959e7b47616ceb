// The database fails under a steady write load, as operators see it fail: the postmaster killed
// (-9), every PostgreSQL process frozen (SIGSTOP), the service's connections terminated, a fast
// restart, statements past statement_timeout. The service runs as its own process against a cluster
// of this file's own, while 8 clients create items and keep the ids they got a 2xx for. For each
// fault: every request is answered within 3 s (503 and Retry-After while the database is away), the
// first 2xx comes within 1 s of the database being back and none is late after that, every
// acknowledged item is there afterwards, and the service never restarts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { runDbmate } from '../../src/db/migrations'
import type { EmbeddedPostgres } from '../../src/embedded-postgres'
import { within } from '../../src/timing'
import { clusterKit, postmasterPid } from '../embedded-postgres/support'
import { silentLogger } from '../support/context'
import { unusedPort } from '../support/ports'
import { childrenOf } from '../support/processes'
import { report as reportRow } from '../support/resilience-report'
import { type RunningService, signUpOn, spawnService } from '../support/service'

setDefaultTimeout(120_000)

/** What the issue promises, in milliseconds. */
const ANSWER_BOUND_MS = 3000
const RECOVERY_BOUND_MS = 1000
const WRITERS = 8
/** How long each fault lasts where it has a length (kill -9, SIGSTOP). */
const DOWN_MS = Number(process.env.FAULT_DOWN_MS ?? 10_000)
/** How long the writers go on once the database is back: what "stays so" is judged on. */
const AFTER_MS = 4000

const kit = clusterKit()
let pg: EmbeddedPostgres
let admin: postgres.Sql
let service: RunningService
let token: string
let password: string

/** pg_ctl as the cluster's user, in a session of its own, with the options the server last ran with. */
async function pgCtl(...args: string[]): Promise<void> {
  const opts = readFileSync(join(pg.clusterDir, 'postmaster.opts'), 'utf8')
  const bin = dirname(opts.trim().split(' ')[0]!.replace(/^"|"$/g, ''))
  const log = join(pg.clusterDir, 'server.log')
  const command = [join(bin, 'pg_ctl'), ...args, '-D', pg.clusterDir, '-l', log, '-w', '-s']
  // PostgreSQL refuses root: as root, the cluster runs as the postgres OS user the service made.
  const asOwner = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...command] : command
  const proc = Bun.spawn(asOwner, { stdout: 'pipe', stderr: 'pipe', detached: true })
  const [code, output] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  if (code !== 0) throw new Error(`pg_ctl ${args.join(' ')} failed: ${output}`)
}

const postmaster = () => postmasterPid(pg.clusterDir)

/** Signals a process that may have exited meanwhile (a backend ending), which is no error here. */
function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** The postmaster and every process it started (a restarted server does not lead a process group). */
function serverProcesses(): number[] {
  const leader = postmaster()
  return [leader, ...childrenOf(leader)]
}

interface Answer {
  started: number
  ended: number
  status: number
  retryAfter: string | null
  id?: number
  code?: string
  replayed?: boolean
}

/**
 * Eight clients creating items until `stop`, each request timed against the test's clock. Each
 * create has an Idempotency-Key and is retried with it until it gets a 201, as a careful client
 * does: a 503 at the deadline may follow a write that committed, and its retry must not add one.
 */
function writeLoad(baseUrl: string, run: string) {
  const answers: Answer[] = []
  let running = true
  const writer = async (n: number) => {
    let i = 0
    while (running) {
      const started = performance.now()
      try {
        const res = await fetch(`${baseUrl}/items/`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': `${run}-${n}-${i}`,
          },
          body: JSON.stringify({ title: `${run} w${n}-${i}` }),
          signal: AbortSignal.timeout(15_000),
        })
        const body = (await res.json()) as { id?: number; code?: string }
        answers.push({
          started,
          ended: performance.now(),
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          ...(res.status === 201
            ? { id: body.id, replayed: res.headers.get('idempotent-replayed') === 'true' }
            : { code: body.code }),
        })
        // Refused requests come back at once: a pause keeps the load steady rather than spinning.
        if (res.status === 201) i++
        else await Bun.sleep(50)
      } catch (error) {
        answers.push({ started, ended: performance.now(), status: 0, retryAfter: null, code: String(error) })
        await Bun.sleep(50)
      }
    }
  }
  const done = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)))
  return {
    answers,
    async stop() {
      running = false
      await done
      return answers
    },
  }
}

interface FaultReport {
  fault: string
  requests: number
  acknowledged: number
  lost: number
  refused: number
  /** Retries answered with the stored 201 of a create whose first answer was lost. */
  replayed: number
  slowestMs: number
  recoveryMs: number
  stragglers: number
}
const reports: FaultReport[] = []

/**
 * Runs the write load, calls `fault` (which resolves when the database is back, or at once for a
 * fault that leaves it up), then judges every answer.
 */
async function underLoad(
  name: string,
  fault: () => Promise<void>,
  expected: { refusals?: boolean; code?: string } = {},
): Promise<FaultReport> {
  const run = crypto.randomUUID().slice(0, 8)
  const load = writeLoad(service.url, run)
  let faultAt = 0
  let backAt = 0
  let answers: Answer[]
  try {
    await Bun.sleep(1000)
    faultAt = performance.now()
    await fault()
    backAt = performance.now()
    await Bun.sleep(AFTER_MS)
  } finally {
    answers = await load.stop()
  }
  // Every connection of the pool serves again: as many requests at once as it has, and more.
  const together = await Promise.all(
    Array.from({ length: 20 }, () =>
      fetch(`${service.url}/users/me`, { headers: { authorization: `Bearer ${token}` } }).then((res) => res.status),
    ),
  )

  const acknowledged = [...new Set(answers.filter((a) => a.status === 201).map((a) => a.id!))]
  const duplicated = await admin`
    select title from items where title like ${`${run} %`} group by title having count(*) > 1`
  const present = await admin<{ id: string }[]>`select id from items where id = any(${acknowledged})`
  const firstAfter = answers.filter((a) => a.status === 201 && a.started >= backAt).sort((a, b) => a.ended - b.ended)[0]
  const late = answers.filter(
    (a) => a.started >= backAt + RECOVERY_BOUND_MS && (a.status !== 201 || a.ended - a.started > RECOVERY_BOUND_MS),
  )
  const report: FaultReport = {
    fault: name,
    requests: answers.length,
    acknowledged: acknowledged.length,
    lost: acknowledged.length - present.length,
    refused: answers.filter((a) => a.status !== 201).length,
    replayed: answers.filter((a) => a.replayed).length,
    slowestMs: Math.round(Math.max(...answers.map((a) => a.ended - a.started))),
    recoveryMs: firstAfter ? Math.round(firstAfter.ended - backAt) : Number.POSITIVE_INFINITY,
    stragglers: late.length,
  }
  reports.push(report)
  reportRow('Database faults under 8 writers (test/resilience/database-faults.test.ts)', {
    fault: name,
    requests: report.requests,
    acknowledged: report.acknowledged,
    lost: report.lost,
    duplicated: duplicated.length,
    refused: report.refused,
    'replayed 201': report.replayed,
    'slowest ms': report.slowestMs,
    'first 201 after back, ms': report.recoveryMs,
    late: report.stragglers,
  })
  console.log(`${name}: ${JSON.stringify({ ...report, downMs: Math.round(backAt - faultAt) })}`)
  if (late.length > 0)
    console.log(
      `  late: ${JSON.stringify(late.map((a) => ({ at: Math.round(a.started - backAt), ms: Math.round(a.ended - a.started), status: a.status, code: a.code })))}`,
    )

  // Whatever was refused was refused as the contract says: 503 with Retry-After (or 409 while a
  // retry's first attempt still runs), never a hang or a 500.
  const badRefusals = answers.filter(
    (a) =>
      a.status !== 201 &&
      !(a.status === 503 && a.retryAfter !== null) &&
      !(a.status === 409 && a.code === 'idempotency_key_in_progress'),
  )
  if (badRefusals.length > 0) console.log(service.output.slice(-40).join('\n'))
  expect(badRefusals.map((a) => a.status)).toEqual([])
  expect(report.lost).toBe(0)
  expect(duplicated.map((row) => row.title)).toEqual([])
  expect(report.slowestMs).toBeLessThanOrEqual(ANSWER_BOUND_MS)
  expect(report.recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS)
  expect(report.stragglers).toBe(0)
  expect(report.acknowledged).toBeGreaterThan(0)
  expect(together.filter((status) => status !== 200)).toEqual([])
  if (expected.refusals) expect(report.refused).toBeGreaterThan(0)
  if (expected.code) expect(answers.some((a) => a.code === expected.code)).toBe(true)
  if (service.process.exitCode !== null) console.log(service.output.slice(-30).join('\n'))
  expect(service.process.exitCode).toBeNull()
  return report
}

beforeAll(async () => {
  pg = await kit.start({ dataDir: kit.tempFolder(), persistent: true, logger: silentLogger })
  expect((await runDbmate(['--no-dump-schema', 'up'], pg.url)).exitCode).toBe(0)
  admin = postgres(pg.url, { max: 1, onnotice: () => {} })
  service = await spawnService({
    env: {
      DATABASE_URL: pg.url,
      PORT: String(unusedPort()),
      // The bounds the answers are judged by: a refused wait for a connection, a deadline on a query.
      DATABASE_QUEUE_TIMEOUT_MS: '250',
      DATABASE_QUERY_TIMEOUT_MS: '2000',
      DATABASE_STATEMENT_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_TIMEOUT_SECONDS: '1',
      LOG_LEVEL: 'info',
      MAX_ITEMS_PER_USER: '1000000',
    },
  })
  const account = await signUpOn(service.url, 'faults')
  token = account.token
  password = account.password
})

afterAll(async () => {
  if (service?.process.exitCode === null) {
    service.process.kill('SIGTERM')
    if (!(await within(service.exited, 10_000)).done) service.process.kill('SIGKILL')
  }
  await admin?.end({ timeout: 1 })
})

describe('database faults under a steady write load', () => {
  test('kill -9 of the postmaster, restarted after a while', async () => {
    await underLoad(
      'kill -9',
      async () => {
        signal(postmaster(), 'SIGKILL')
        await Bun.sleep(DOWN_MS)
        await pgCtl('restart', '-m', 'fast')
      },
      { refusals: true },
    )
  })

  test('SIGSTOP of every PostgreSQL process, then SIGCONT', async () => {
    await underLoad(
      'SIGSTOP',
      async () => {
        const stopped = serverProcesses()
        expect(stopped.length).toBeGreaterThan(3)
        try {
          for (const pid of stopped) signal(pid, 'SIGSTOP')
          await Bun.sleep(DOWN_MS)
        } finally {
          for (const pid of stopped) signal(pid, 'SIGCONT')
        }
      },
      { refusals: true, code: 'database_timeout' },
    )
  })

  test("pg_terminate_backend of the service's connections", async () => {
    await underLoad('terminate', async () => {
      const ended = await admin`
        select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'users-service'`
      expect(ended.length).toBeGreaterThan(0)
    })
  })

  test('a fast restart', async () => {
    await underLoad('restart -m fast', () => pgCtl('restart', '-m', 'fast'), { refusals: true })
  })

  test('statements past statement_timeout (a lock held for 3 s)', async () => {
    await underLoad(
      'statement_timeout',
      async () => {
        await admin.begin(async (tx) => {
          await tx`lock table items in access exclusive mode`
          await Bun.sleep(3000)
        })
        // The statements that waited were cancelled by PostgreSQL (57014: database_busy), before the
        // service's own deadline.
      },
      { refusals: true, code: 'database_busy' },
    )
  })

  test('the log tells each outage once, holds no secret, and SIGTERM still ends the service cleanly', async () => {
    const log = service.output.join('\n')
    // A line each way per outage, not one per refused request (hundreds were refused).
    const unreachable = service.output.filter((line) => line.includes('database unreachable'))
    const back = service.output.filter((line) => line.includes('database reachable again'))
    const refused = reports.reduce((sum, report) => sum + report.refused, 0)
    expect(unreachable.length).toBeGreaterThanOrEqual(2)
    expect(refused).toBeGreaterThan(10 * unreachable.length)
    expect(back.length).toBe(unreachable.length)
    const dbPassword = decodeURIComponent(new URL(pg.url).password)
    for (const secret of [dbPassword, password, token, '$argon2'])
      expect({ secret: secret.slice(0, 6), found: log.includes(secret) }).toEqual({
        secret: secret.slice(0, 6),
        found: false,
      })

    const started = performance.now()
    service.process.kill('SIGTERM')
    expect(await service.exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(5000)
  })
})
