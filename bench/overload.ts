// `bun run bench -- --overload`: GET /users/{id} offered twice what the service serves, against the
// service with no bound on requests in flight, with MAX_INFLIGHT's default, and with smaller ones.
// Accepted answers and refusals are timed apart (bench/load.ts's runSplitLoad), because they answer
// different questions: the refusals do no work, so their latency is the floor the machine sets
// under that load, and the accepted ones show what each bound costs or saves.
import { cpus, loadavg } from 'node:os'
import type { BenchAuth } from './auth'
import { type Latencies, runSplitLoad, type SplitResult, usesWrk } from './load'
import { peakRss, type Server } from './processes'
import { SCENARIOS } from './scenarios'

/** No bound, the default, and two that keep fewer requests waiting. */
const BOUNDS = [0, 128, 32, 8]
/** Enough connections that the offered rate, not their number, sets the load while answers take under ~90 ms. */
const CONNECTIONS = 512
/** As the main run's scenarios: the capacity is what they serve. */
const SATURATING_CONNECTIONS = 64

export interface OverloadOptions {
  /** Starts the service with these settings added (it is stopped here). */
  start(env: Record<string, string>): Promise<Server>
  auth: BenchAuth
  seconds: number
  warmup: number
  progress(text: string): void
}

interface Measured {
  bound: number
  result: SplitResult
  peakMiB: number
}

const ms = (n: number) => n.toFixed(2)

/** Runs the comparison and answers its report (Markdown). */
export async function overloadRun({ start, auth, seconds, warmup, progress }: OverloadOptions): Promise<string> {
  const loadBefore = loadavg()
  const scenario = SCENARIOS.find((candidate) => candidate.name === 'users-by-id')!
  const workload = await scenario.workload(auth)
  const measured: Measured[] = []
  let unloaded: Latencies | undefined
  let capacity = 0
  for (const bound of BOUNDS) {
    const service = await start({ MAX_INFLIGHT: String(bound) })
    try {
      const load = (connections: number, s: number, rate?: number) =>
        runSplitLoad({ url: service.url, workload, connections, seconds: s, rate })
      await load(SATURATING_CONNECTIONS, warmup)
      if (bound === 0) {
        // Two connections, one request each at a time: the service's own latency, nothing queued.
        unloaded = (await load(2, seconds)).accepted
        const saturated = await load(SATURATING_CONNECTIONS, seconds)
        capacity = saturated.accepted.count / saturated.seconds
        progress(`unloaded p99 ${ms(unloaded.p99)} ms; capacity ${capacity.toFixed(0)} req/s`)
      }
      const { value: result, peakMiB } = await peakRss(service, load(CONNECTIONS, seconds, capacity * 2))
      measured.push({ bound, result, peakMiB })
      const { accepted, refused } = result
      progress(
        `MAX_INFLIGHT=${bound} at ${(capacity * 2).toFixed(0)} req/s offered: accepted ${(accepted.count / result.seconds).toFixed(0)} req/s p99 ${ms(accepted.p99)} ms, refused ${refused.count} p99 ${ms(refused.p99)} ms, peak RSS ${peakMiB.toFixed(0)} MiB`,
      )
    } finally {
      await service.stop()
    }
  }
  return report({ unloaded: unloaded!, capacity, measured, loadBefore, seconds })
}

function report({
  unloaded,
  capacity,
  measured,
  loadBefore,
  seconds,
}: {
  unloaded: Latencies
  capacity: number
  measured: Measured[]
  loadBefore: number[]
  seconds: number
}): string {
  const generator = usesWrk() ? 'wrk (2 threads)' : 'autocannon'
  const rows = measured.map(({ bound, result, peakMiB }) => {
    const { accepted, refused, other } = result
    const answered = accepted.count + refused.count + other
    const rate = (count: number) => (count / result.seconds).toFixed(0)
    return [
      bound === 0 ? '0 (no bound)' : bound === 128 ? '128 (default)' : String(bound),
      rate(answered),
      rate(accepted.count),
      `${((accepted.count / result.seconds / capacity) * 100).toFixed(0)}%`,
      ms(accepted.p50),
      ms(accepted.p99),
      `${(accepted.p99 / unloaded.p99).toFixed(1)}×`,
      ms(accepted.p999),
      `${((refused.count / Math.max(answered, 1)) * 100).toFixed(1)}%`,
      refused.count ? ms(refused.p50) : '—',
      refused.count ? ms(refused.p99) : '—',
      String(other),
      String(result.unfinished),
      peakMiB.toFixed(0),
    ]
  })
  return [
    '# Overload: GET /users/{id} offered twice what the service serves',
    '',
    `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, load average before the run ${loadBefore.map((n) => n.toFixed(2)).join(' ')}. ${generator} on the same machine, ${seconds} s per measurement.`,
    '',
    `Unloaded (2 connections, one request each at a time, no bound): p50 ${ms(unloaded.p50)} ms, p99 ${ms(unloaded.p99)} ms. Capacity (${SATURATING_CONNECTIONS} connections as fast as answers come, no bound): ${capacity.toFixed(0)} req/s. Then ${CONNECTIONS} connections offer ${(capacity * 2).toFixed(0)} req/s (exponential gaps on a fixed schedule, whatever the answers' latency, as far as the connections allow) to the service started with each \`MAX_INFLIGHT\`; accepted answers (2xx) and refusals (503 \`overloaded\`) are timed apart.`,
    '',
    '| MAX_INFLIGHT | answered req/s | accepted req/s | of capacity | accepted p50 ms | accepted p99 ms | p99 vs unloaded | accepted p99.9 ms | refused | refusal p50 ms | refusal p99 ms | other | unfinished at the end | peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
    '',
    "How to read it. An accepted request waits behind the others in flight: about `MAX_INFLIGHT` / throughput (Little's law), so the bound sets the accepted latency under overload, and without one it grows with the clients. A refusal does no work; its latency is the floor the machine sets under this load, with the load generator, PostgreSQL and the service sharing the cores. No value of `MAX_INFLIGHT` brings the accepted requests' latency below that floor. Requests still unanswered when a measurement ends are left out of its percentiles (the last column counts them).",
    '',
    `A bound below the clients that send without pause refuses some of them however fast the service is: the main run's ${SATURATING_CONNECTIONS} saturating connections get no refusal only with \`MAX_INFLIGHT\` of ${SATURATING_CONNECTIONS} or more. The default (128) leaves room for them; a smaller bound trades those refusals for lower latency of the requests accepted under overload.`,
    '',
  ].join('\n')
}
