// `bun run bench` works end to end, briefly: a throwaway database seeded, the service and the
// ceilings started, a picked request and refresh chains under each load generator (wrk, and
// autocannon, the fallback), the table and chart written, every process stopped; and its overload
// comparison (`--overload`), whose answers each generator times apart.
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_DIR, runToExit } from '../support/service'

// Seeding 400,000 rows and starting three servers takes seconds on two cores.
setDefaultTimeout(120_000)

const results = mkdtempSync(join(tmpdir(), 'bench-results-'))
afterAll(() => rmSync(results, { recursive: true, force: true }))

/** Runs bench/run.ts briefly with `load` and `args`, writing to a folder of its own; returns the folder and output. */
async function runBench(load: 'wrk' | 'autocannon', args: string[]) {
  const dir = join(results, `${load}${args.join('')}`)
  const { exitCode, output } = await runToExit(['bun', 'bench/run.ts', ...args], {
    cwd: PROJECT_DIR,
    env: { BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '1', BENCH_RESULTS_DIR: dir, BENCH_LOAD: load },
    timeoutMs: 110_000,
  })
  if (exitCode !== 0) console.error(output)
  expect(exitCode).toBe(0)
  // The servers it started are gone.
  expect(Bun.spawnSync(['ps', '-eo', 'args']).stdout.toString()).not.toContain('bench/ceilings/')
  return { dir, output }
}

/** Runs the benchmark briefly with `load` over `scenarios`; returns its table and output. */
async function briefRun(load: 'wrk' | 'autocannon', scenarios: string[]) {
  const { dir, output } = await runBench(
    load,
    scenarios.flatMap((name) => ['--scenario', name]),
  )
  expect(readFileSync(join(dir, 'latest.svg'), 'utf8')).toStartWith('<svg')
  expect(existsSync(join(dir, 'latest.json'))).toBe(true)
  return { table: readFileSync(join(dir, 'latest.md'), 'utf8'), output }
}

/**
 * `--overload` briefly: a row per bound (bound, answered, accepted, of capacity, p50, p99, vs
 * unloaded, p99.9, refused, refusal p50, refusal p99, other, unfinished, RSS), every answer
 * accepted or refused, refusals only where there is a bound.
 */
async function briefOverload(load: 'wrk' | 'autocannon') {
  const { dir } = await runBench(load, ['--overload'])
  const report = readFileSync(join(dir, 'overload.md'), 'utf8')
  for (const bound of ['0 (no bound)', '128 (default)', '32', '8']) {
    const [, answered, accepted, , , , , , refused, , , other] = row(report, bound)
    expect(Number(answered)).toBeGreaterThan(0)
    expect(Number(accepted)).toBeGreaterThan(0)
    expect({ bound, other }).toEqual({ bound, other: '0' })
    if (bound.startsWith('0 ')) expect(refused).toBe('0.0%')
    if (bound === '8') expect(Number.parseFloat(refused!)).toBeGreaterThan(0)
  }
}

/** A scenario's cells in the table: title, req/s, p50, p99, p99.9, errors, ... */
function row(table: string, title: string): string[] {
  const line = table.split('\n').find((candidate) => candidate.startsWith(`| ${title} |`))
  expect({ title, found: line !== undefined }).toEqual({ title, found: true })
  return line!
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim())
}

const expectClean = (table: string, title: string) => {
  const cells = row(table, title)
  expect(Number(cells[1])).toBeGreaterThan(0)
  expect({ title, errors: cells[5] }).toEqual({ title, errors: '0' })
}

/**
 * A row of the steady-rate table (title, offered, req/s, p50, p99, p99.9, errors, ...): answered
 * without errors, and held to the offered rate (a quarter of what the same connections do at
 * saturation), not run flat out.
 */
const expectSteady = (table: string, title: string) => {
  const [, offered, rps, , , , errors] = row(table, title)
  expect({ title, errors }).toEqual({ title, errors: '0' })
  expect(Number(rps)).toBeGreaterThan(0)
  expect(Number(rps)).toBeLessThan(Number(offered) * 1.3)
}

test('with autocannon: picked requests and refresh chains, the ceilings beside them, no errors', async () => {
  const { table, output } = await briefRun('autocannon', ['users-by-id', 'refresh'])
  expectClean(table, 'GET /users/{id} (superuser, with items)')
  expectClean(table, 'POST /login/refresh')
  expectSteady(table, 'GET /users/{id} (superuser, with items) at 25%')
  expect(table).toContain('minimal handler: GET /users/{id}')
  expect(table).toContain('database ceiling')
  expect(output).toContain('load by autocannon')
})

const wrkMissing = Bun.which('wrk') === null && process.env.CI !== 'true'
if (wrkMissing) console.warn('skipping the benchmark run with wrk: not installed (apt-get install -y wrk)')

test.skipIf(wrkMissing)('with wrk (its Lua scripts): picked requests and refresh chains, no errors', async () => {
  const { table, output } = await briefRun('wrk', ['items-by-id', 'refresh'])
  expectClean(table, 'GET /items/{id} (owner)')
  expectClean(table, 'POST /login/refresh')
  expectSteady(table, 'GET /items/{id} (owner) at 25%')
  expectSteady(table, 'GET /items/{id} (owner) at 50%')
  expect(output).toContain('load by wrk')
})

test('--overload with autocannon: accepted and refused answers timed apart, refusals only past a bound', async () => {
  await briefOverload('autocannon')
})

test.skipIf(wrkMissing)(
  '--overload with wrk: accepted and refused answers timed apart, refusals only past a bound',
  async () => {
    await briefOverload('wrk')
  },
)
