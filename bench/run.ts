// `bun run bench`: the service under load beside the ceilings of its own parts, in one run.
//   bun run bench -- --scenario users-by-id --scenario mixed    only these (names below)
//   bun run bench -- --soak 300                                 memory over a long mixed run
//   bun run bench -- --overload                                 twice the load, by MAX_INFLIGHT
// BENCH_SECONDS (default 10) per scenario, after BENCH_WARMUP_SECONDS (3) of warm-up; results go to
// bench/results/ (BENCH_RESULTS_DIR to write elsewhere); BENCH_LOAD=autocannon uses the fallback.
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { BENCH_SECRET_KEY, type BenchAuth, createBenchAuth } from './auth'
import { databaseCeiling } from './ceilings/database'
import { SEED, seed, startBenchDatabase } from './database'
import { type LoadResult, runLoad, usesWrk, type Workload } from './load'
import { overloadRun } from './overload'
import { peakRss, ROOT, rssMiB, type Server, startServer } from './processes'
import { markdown, type Row, svg } from './report'
import { mixedWorkloads, SCENARIOS } from './scenarios'

const CONNECTIONS = 64
const POOL = 10
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 3)
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', 'results')

function parseArgs(argv: string[]) {
  const scenarios: string[] = []
  let soak: number | undefined
  let overload = false
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--scenario') scenarios.push(argv[++i] ?? '')
    else if (argv[i] === '--soak') soak = Number(argv[++i])
    else if (argv[i] === '--overload') overload = true
    else throw new Error(`unknown argument ${argv[i]}: use --scenario NAME, --soak SECONDS or --overload`)
  }
  const known = [...SCENARIOS.map((s) => s.name), 'mixed', 'workers']
  for (const name of scenarios)
    if (!known.includes(name)) throw new Error(`no scenario ${name}; there are: ${known.join(', ')}`)
  return { scenarios: scenarios.length ? scenarios : known, soak, overload }
}

const progress = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`)
const summary = (r: LoadResult) =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors`

/** Shares of the minimal handler's requests/s at which latency is measured at a steady rate. */
const STEADY_SHARES = [0.25, 0.5]

async function measure(server: Server, workload: () => Promise<Workload>, rate?: number) {
  const connections = CONNECTIONS
  await runLoad({ url: server.url, workload: await workload(), connections, seconds: warmup, rate })
  const { value, peakMiB } = await peakRss(
    server,
    runLoad({ url: server.url, workload: await workload(), connections, seconds, rate }),
  )
  return { ...value, peakMiB }
}

/** Slices each side gets in a paired measurement: the median of five shrugs off two bursts of noise. */
const SLICES = 5

/**
 * The service and the minimal handler in alternating slices (service, minimal, minimal, service,
 * service, minimal, ...: SLICES each, `seconds` in all per side), so that the machine's drift during
 * a run (a shared 2-core machine swings by tens of percent within a minute, and other tenants take
 * the CPUs in bursts) falls on both alike. Requests/s is over all slices; each percentile is the
 * median of the slices'.
 */
async function paired(service: Server, minimal: Server, workload: () => Promise<Workload>, rate?: number) {
  const slice = Math.max(1, Math.round(seconds / SLICES))
  const w = await workload()
  for (const server of [service, minimal])
    await runLoad({ url: server.url, workload: w, connections: CONNECTIONS, seconds: warmup, rate })
  const slices = { service: [] as LoadResult[], minimal: [] as LoadResult[] }
  const order = Array.from({ length: SLICES * 2 }, (_, i) => (((i + 1) >> 1) % 2 === 0 ? 'service' : 'minimal'))
  const { peakMiB } = await peakRss(
    service,
    (async () => {
      for (const side of order) {
        const server = side === 'service' ? service : minimal
        slices[side].push(
          await runLoad({ url: server.url, workload: w, connections: CONNECTIONS, seconds: slice, rate }),
        )
      }
    })(),
  )
  return { service: { ...combined(slices.service), peakMiB }, minimal: combined(slices.minimal) }
}

function combined(slices: LoadResult[]): LoadResult {
  const median = (pick: (r: LoadResult) => number) => slices.map(pick).sort((a, b) => a - b)[slices.length >> 1]!
  const requests = slices.reduce((sum, r) => sum + r.requests, 0)
  const secondsRun = slices.reduce((sum, r) => sum + r.seconds, 0)
  return {
    requests,
    seconds: secondsRun,
    rps: requests / secondsRun,
    p50: median((r) => r.p50),
    p99: median((r) => r.p99),
    p999: median((r) => r.p999),
    errors: slices.reduce((sum, r) => sum + r.errors, 0),
  }
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`

async function versions(url: string): Promise<Record<string, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const [{ version }] = await sql<[{ version: string }]>`select version()`
  await sql.end()
  const pkg = async (name: string) =>
    (await Bun.file(join(ROOT, 'node_modules', name, 'package.json')).json()).version as string
  return {
    Bun: Bun.version,
    PostgreSQL: version.split(' ')[1] ?? version,
    elysia: await pkg('elysia'),
    postgres: await pkg('postgres'),
    jose: await pkg('jose'),
  }
}

async function main() {
  const { scenarios, soak, overload } = parseArgs(process.argv.slice(2))
  const loadBefore = loadavg()
  progress('starting a throwaway PostgreSQL')
  const started: Server[] = []
  let db: Awaited<ReturnType<typeof startBenchDatabase>> | undefined
  let auth: BenchAuth | undefined
  let cleaning: Promise<void> | undefined
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const server of started) await server.stop()
      await auth?.close()
      await db?.stop()
    })())
  const starting = startBenchDatabase()
  // Ctrl-C stops what the run started: the servers, and the database (which runs in a session of
  // its own), also while it is still starting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      void starting
        .catch(() => {})
        .then(cleanup)
        .finally(() => process.exit(130))
    })
  }
  db = await starting
  try {
    const seeded = await seed(db.url)
    progress(
      `seeded ${SEED.users} users and ${SEED.users * SEED.itemsPerUser} items in ${(seeded.ms / 1000).toFixed(1)} s`,
    )
    auth = await createBenchAuth(db.url, seeded.hash)
    const serviceEnv = (workers: string) => ({
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      SECRET_KEY: BENCH_SECRET_KEY,
      DATABASE_POOL_MAX: String(POOL),
      SHUTDOWN_DRAIN_SECONDS: '0',
      WORKERS: workers,
    })
    const start = async (command: string[], env: Record<string, string>, probe?: string) => {
      const server = await startServer(command, env, probe)
      started.push(server)
      return server
    }
    if (overload) {
      const report = await overloadRun({
        start: (env) => start(['bun', 'src/index.ts'], { ...serviceEnv('1'), ...env }),
        auth,
        seconds,
        warmup,
        progress,
      })
      await Bun.write(join(resultsDir, 'overload.md'), report)
      process.stdout.write(`\n${report}\nwritten to ${resultsDir}/overload.md\n`)
      return
    }
    const service = await start(['bun', 'src/index.ts'], serviceEnv('1'))
    const minimal = await start(
      ['bun', 'bench/ceilings/minimal.ts'],
      { DATABASE_URL: db.url, SECRET_KEY: BENCH_SECRET_KEY, DATABASE_POOL_MAX: String(POOL) },
      '/',
    )
    const body = await (
      await fetch(`${service.url}/users/2`, { headers: { Authorization: `Bearer ${auth.superuserToken}` } })
    ).text()
    const http = await start(['bun', 'bench/ceilings/http.ts'], { BENCH_BODY: body }, '/')
    const loadGenerator = usesWrk() ? 'wrk (2 threads)' : 'autocannon'
    progress(`service, minimal handler and HTTP ceiling listening; load by ${loadGenerator}`)

    if (soak) return await soakRun(service, http, auth, soak)

    const rows: Row[] = []
    let minimalUsersRps: number | undefined
    for (const scenario of SCENARIOS.filter((s) => scenarios.includes(s.name))) {
      const workload = () => scenario.workload(auth!)
      const both = scenario.minimal ? await paired(service, minimal, workload) : undefined
      const result = both?.service ?? (await measure(service, workload))
      progress(`${scenario.name}: ${summary(result)}, peak RSS ${result.peakMiB.toFixed(0)} MiB`)
      const row: Row = { name: scenario.name, title: scenario.title, service: result }
      if (both) {
        row.minimal = both.minimal
        progress(`${scenario.name}, minimal handler: ${summary(row.minimal)}`)
        if (scenario.name === 'users-by-id') minimalUsersRps = row.minimal.rps
      }
      if (scenario.name === 'users-by-id') {
        const httpResult = await measure(http, workload)
        progress(`HTTP ceiling: ${summary(httpResult)}`)
        const database = await databaseCeiling({
          url: db.url,
          pool: POOL,
          seconds,
          caller: auth.superuser,
          users: SEED.users,
        })
        progress(`database ceiling: ${summary(database)}`)
        row.ceilings = { http: httpResult, database }
      }
      if (scenario.hashing) row.note = 'bound by argon2id'
      rows.push(row)
      if (scenario.steady && row.minimal) {
        for (const share of STEADY_SHARES) {
          const rate = Math.round(row.minimal.rps * share)
          const at = await paired(service, minimal, workload, rate)
          progress(`${scenario.name} at ${rate} req/s: ${summary(at.service)}; minimal handler: ${summary(at.minimal)}`)
          rows.push({
            name: `${scenario.name}-steady-${share}`,
            title: `${scenario.title} at ${percent(share)}`,
            rate,
            ...at,
          })
        }
      }
    }
    if (scenarios.includes('mixed')) {
      // The steady mixed load is a share of the minimal handler's GET /users/{id}, measured first if
      // this run has not.
      minimalUsersRps ??= (await measure(minimal, () => SCENARIOS[0]!.workload(auth!))).rps
      rows.push(...(await mixed(service, auth, minimalUsersRps)))
    }
    if (scenarios.includes('workers')) {
      const two = await start(['bun', 'src/index.ts'], serviceEnv('2'))
      const users = SCENARIOS[0]!
      const result = await measure(two, () => users.workload(auth!))
      progress(`users-by-id, 2 workers: ${summary(result)}`)
      rows.push({ name: 'users-by-id-2-workers', title: `${users.title}, WORKERS=2`, service: result })
    }

    const machine = {
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      loadBefore,
      versions: await versions(db.url),
      seconds,
      connections: CONNECTIONS,
      loadGenerator,
    }
    const table = markdown(rows, machine)
    await Bun.write(join(resultsDir, 'latest.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`)
    await Bun.write(join(resultsDir, 'latest.md'), table)
    await Bun.write(join(resultsDir, 'latest.svg'), svg(rows))
    process.stdout.write(`\n${table}\nwritten to ${resultsDir}: latest.md, latest.svg and latest.json\n`)
  } finally {
    await cleanup()
  }
}

/**
 * Reads and writes at once, with 10 connections logging in (hashing passwords) beside them: at
 * saturation, then with reads and writes at a steady rate (shares of `anchorRps`, the minimal
 * handler's GET /users/{id}), the logins still as fast as they go.
 */
async function mixed(service: Server, auth: BenchAuth, anchorRps: number): Promise<Row[]> {
  const { reads, writes, logins } = await mixedWorkloads(auth)
  const run = async (rate?: number) => {
    const load = (workload: Workload, connections: number, s: number, share?: number) =>
      runLoad({ url: service.url, workload, connections, seconds: s, rate: rate && share && rate * share })
    const all = (s: number) =>
      Promise.all([load(reads, 58, s, 0.9), load(writes, 6, s, 0.1), load(logins, 10, s)] as const)
    await all(warmup)
    const { value, peakMiB } = await peakRss(service, all(seconds))
    return { value, peakMiB }
  }
  const { value, peakMiB } = await run()
  const [r, w, l] = value
  progress(`mixed: reads ${summary(r)}; writes ${summary(w)}; logins ${summary(l)}`)
  const steady: Row[] = []
  for (const share of STEADY_SHARES) {
    const rate = Math.round(anchorRps * share)
    const at = await run(rate)
    const [sr, , sl] = at.value
    progress(`mixed at ${rate} req/s: reads ${summary(sr)}; logins ${summary(sl)}`)
    steady.push({
      name: `mixed-reads-steady-${share}`,
      title: `mixed at ${percent(share)}: reads (writes a tenth more, 10 connections logging in)`,
      rate: Math.round(rate * 0.9),
      service: { ...sr, peakMiB: at.peakMiB },
    })
  }
  return [
    { name: 'mixed-reads', title: 'mixed: reads (58 connections)', service: { ...r, peakMiB } },
    { name: 'mixed-writes', title: 'mixed: writes (6 connections)', service: { ...w, peakMiB } },
    {
      name: 'mixed-logins',
      title: 'mixed: logins (10 connections)',
      service: { ...l, peakMiB },
      note: 'bound by argon2id',
    },
    ...steady,
  ]
}

/** The soak's windows: throughput is compared between them. */
const SOAK_WINDOW_SECONDS = 30

/**
 * Mixed reads and writes flat out for `total` seconds, in windows of SOAK_WINDOW_SECONDS: RSS every
 * 5 s, and each window's requests/s. The HTTP ceiling, measured before and after, tells the machine's
 * drift from the service's: if both fall alike, the machine slowed down.
 */
async function soakRun(service: Server, http: Server, auth: BenchAuth, total: number) {
  const { reads, writes } = await mixedWorkloads(auth)
  const control = () => runLoad({ url: http.url, workload: reads, connections: CONNECTIONS, seconds: 5 })
  const before = await control()
  progress(`HTTP ceiling before: ${summary(before)}`)
  const samples: { at: number; rssMiB: number }[] = []
  const began = performance.now()
  const timer = setInterval(() => {
    const rss = Math.max(...service.pids().map(rssMiB))
    samples.push({ at: (performance.now() - began) / 1000, rssMiB: rss })
    progress(`soak ${samples.at(-1)!.at.toFixed(0)} s: RSS ${rss.toFixed(0)} MiB`)
  }, 5000)
  const windows: { at: number; reads: LoadResult; writes: LoadResult }[] = []
  for (let at = 0; at < total; at += SOAK_WINDOW_SECONDS) {
    const seconds = Math.min(SOAK_WINDOW_SECONDS, total - at)
    const [r, w] = await Promise.all([
      runLoad({ url: service.url, workload: reads, connections: 58, seconds }),
      runLoad({ url: service.url, workload: writes, connections: 6, seconds }),
    ])
    windows.push({ at, reads: r, writes: w })
    progress(`soak window at ${at} s: reads ${summary(r)}; writes ${summary(w)}`)
  }
  clearInterval(timer)
  const after = await control()
  progress(`HTTP ceiling after: ${summary(after)}`)
  const afterMinute = samples.filter((s) => s.at >= 60)
  const first = afterMinute[0]?.rssMiB ?? 0
  const peak = Math.max(...samples.map((s) => s.rssMiB))
  const last = samples.at(-1)?.rssMiB ?? 0
  const change = (from: number, to: number) => `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)}%`
  const [firstWindow, lastWindow] = [windows[0]!, windows.at(-1)!]
  const report = [
    `# Soak: ${total} s of mixed reads and writes, flat out`,
    '',
    `RSS: peak ${peak.toFixed(0)} MiB; at 60 s ${first.toFixed(0)} MiB, at the end ${last.toFixed(0)} MiB (growth after the first minute: ${(last - first).toFixed(0)} MiB)`,
    `Reads: ${firstWindow.reads.rps.toFixed(0)} req/s in the first window, ${lastWindow.reads.rps.toFixed(0)} in the last (${change(firstWindow.reads.rps, lastWindow.reads.rps)}); the HTTP ceiling on the same machine went from ${before.rps.toFixed(0)} to ${after.rps.toFixed(0)} req/s (${change(before.rps, after.rps)}).`,
    '',
    '| window (s) | reads req/s | reads p99 ms | writes req/s | errors |',
    '|---:|---:|---:|---:|---:|',
    ...windows.map(
      (w) =>
        `| ${w.at}-${w.at + SOAK_WINDOW_SECONDS} | ${w.reads.rps.toFixed(0)} | ${w.reads.p99.toFixed(1)} | ${w.writes.rps.toFixed(0)} | ${w.reads.errors + w.writes.errors} |`,
    ),
    '',
    '| s | RSS MiB |',
    '|---:|---:|',
    ...samples.map((s) => `| ${s.at.toFixed(0)} | ${s.rssMiB.toFixed(0)} |`),
    '',
  ].join('\n')
  await Bun.write(join(resultsDir, 'soak.md'), report)
  process.stdout.write(`\n${report}\nwritten to ${resultsDir}/soak.md\n`)
}

await main()
