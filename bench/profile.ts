// `bun run bench:profile [scenario]`: the service under one scenario's load with Bun's CPU profiler
// on, then where its time went: the functions that took the most, and each package's share. The
// .cpuprofile is kept (bench/results/profile/) for Chrome's DevTools or speedscope.
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_SECRET_KEY, createBenchAuth } from './auth'
import { seed, startBenchDatabase } from './database'
import { runLoad } from './load'
import { ROOT, startServer } from './processes'
import { SCENARIOS } from './scenarios'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

const name = process.argv[2] ?? 'users-by-id'
const scenario = SCENARIOS.find((candidate) => candidate.name === name)
if (!scenario) throw new Error(`no scenario ${name}; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`)
const dir = join(process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', 'results'), 'profile')
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })

const db = await startBenchDatabase()
try {
  const { hash } = await seed(db.url)
  const auth = await createBenchAuth(db.url, hash)
  const service = await startServer(['bun', '--cpu-prof', `--cpu-prof-dir=${dir}`, 'src/index.ts'], {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    SECRET_KEY: BENCH_SECRET_KEY,
    SHUTDOWN_DRAIN_SECONDS: '0',
  })
  const result = await runLoad({
    url: service.url,
    workload: await scenario.workload(auth),
    connections: 64,
    seconds: 10,
  })
  console.log(`${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors`)
  await service.stop()
  await auth.close()
} finally {
  await db.stop()
}

const file = join(dir, readdirSync(dir).find((entry) => entry.endsWith('.cpuprofile'))!)
const profile = (await Bun.file(file).json()) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const parents = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
const selfTime = new Map<number, number>()
for (const [i, id] of profile.samples.entries())
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...selfTime.values()].reduce((a, b) => a + b, 0)
const where = (url: string) => url.replace(/.*node_modules\//, '').replace(`${ROOT}/`, '')
const packageOf = (url: string) =>
  where(url)
    .split('/')
    .slice(0, where(url).startsWith('@') ? 2 : 1)
    .join('/') || '(native)'

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const [id, time] of selfTime) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame
  const key = `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + time)
  // Inclusive: each package on the stack once.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const owner = packageOf(nodes.get(at)!.callFrame.url)
    if (!seen.has(owner)) {
      seen.add(owner)
      byPackage.set(owner, (byPackage.get(owner) ?? 0) + time)
    }
  }
}
const top = (map: Map<string, number>, count: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, time]) => `${((time / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
console.log(`\nself time, top 25 (of ${(total / 1e6).toFixed(1)} s sampled):\n${top(byFunction, 25).join('\n')}`)
console.log(`\non the stack, by package:\n${top(byPackage, 15).join('\n')}\n\nprofile: ${file}`)
