// Drives load with wrk (Debian's `wrk`; Lua builds each request and reports the latency
// percentiles), or, when wrk is missing, with autocannon from npm. Both answer the same result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type autocannon from 'autocannon'

export interface LoadResult {
  requests: number
  seconds: number
  rps: number
  /** Milliseconds. */
  p50: number
  p99: number
  p999: number
  /** Connection errors, timeouts and answers that were not 2xx/3xx. */
  errors: number
}

/** One request, as a load generator sends it. */
export interface RequestSpec {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
}

/**
 * What a scenario sends: a fixed list of requests picked at random, or (refresh) chains where each
 * answer gives the next request's body. `chain.tokens` are split between threads or connections.
 */
export type Workload = { kind: 'pick'; requests: RequestSpec[] } | { kind: 'refresh'; path: string; tokens: string[] }

export interface LoadOptions {
  url: string
  workload: Workload
  connections: number
  seconds: number
  /**
   * Requests per second to offer in all (open to a steady arrival rate instead of as fast as answers
   * come back): latency is measured at a set load, not at saturation, where every closed-loop
   * client waits in the queue (Little's law: mean latency = connections / throughput).
   */
  rate?: number
}

/** wrk when it is installed, unless BENCH_LOAD=autocannon asks for the fallback. */
export const usesWrk = () => process.env.BENCH_LOAD !== 'autocannon' && Bun.which('wrk') !== null

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return usesWrk() ? runWrk(options) : runAutocannon(options)
}

const THREADS = 2
const lua = (value: string) => JSON.stringify(value)

function luaRequest({ method, path, headers = {}, body }: RequestSpec): string {
  const headerTable = Object.entries(headers)
    .map(([name, value]) => `[${lua(name)}]=${lua(value)}`)
    .join(',')
  return `{${lua(method)},${lua(path)},{${headerTable}},${body === undefined ? 'nil' : lua(body)}}`
}

function wrkScript(workload: Workload, connections: number, rate?: number): string {
  // wrk waits delay() ms after each answer before a connection's next request: exponential gaps whose
  // mean spreads \`rate\` over the connections.
  const pacing =
    rate === undefined
      ? ''
      : `
local mean_gap = ${(connections * 1000) / rate}
delay = function() return -mean_gap * math.log(1 - math.random()) end`
  const done = `${pacing}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_RESULT {"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"p999":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.status + e.timeout))
end`
  if (workload.kind === 'pick') {
    return `
local requests = {${workload.requests.map(luaRequest).join(',\n')}}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 1000 + seed) end
request = function()
  local r = requests[math.random(#requests)]
  return wrk.format(r[1], r[2], r[3], r[4])
end
${done}`
  }
  // Each thread owns a share of the sessions: a token goes out, the answer's next token comes back.
  const shares = Array.from({ length: THREADS }, (_, t) => workload.tokens.filter((_, i) => i % THREADS === t))
  return `
local shares = {${shares.map((share) => lua(share.join(','))).join(',')}}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("share", shares[counter]) end
local queue = {}
init = function(args) for token in string.gmatch(share, "[^,]+") do table.insert(queue, token) end end
request = function()
  local token = table.remove(queue, 1) or "exhausted"
  return wrk.format("POST", ${lua(workload.path)}, {["Content-Type"]="application/json"}, '{"refresh_token":"' .. token .. '"}')
end
response = function(status, headers, body)
  local next = string.match(body, '"refresh_token":"([^"]+)"')
  if next then table.insert(queue, next) end
end
${done}`
}

async function runWrk({ url, workload, connections, seconds, rate }: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  try {
    const script = join(dir, 'scenario.lua')
    writeFileSync(script, wrkScript(workload, connections, rate))
    const proc = Bun.spawn(
      [
        'wrk',
        '-t',
        String(THREADS),
        '-c',
        String(connections),
        '-d',
        `${seconds}s`,
        '--timeout',
        '10s',
        '-s',
        script,
        url,
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
    if (code !== 0 || !line) throw new Error(`wrk failed (${code}):\n${out}${err}`)
    const raw = JSON.parse(line.slice('BENCH_RESULT '.length))
    const secondsRun = raw.duration_us / 1e6
    return {
      requests: raw.requests,
      seconds: secondsRun,
      rps: raw.requests / secondsRun,
      p50: raw.p50 / 1000,
      p99: raw.p99 / 1000,
      p999: raw.p999 / 1000,
      errors: raw.errors,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function runAutocannon({ url, workload, connections, seconds, rate }: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon')
  // One queue of refresh tokens for all connections (autocannon clears a connection's context after
  // each request): a token goes out, the answer's next token comes back.
  const tokens = workload.kind === 'refresh' ? [...workload.tokens] : []
  const requests: autocannon.Request[] =
    workload.kind === 'pick'
      ? [
          {
            setupRequest: (request) => {
              const spec = workload.requests[Math.floor(Math.random() * workload.requests.length)]!
              return {
                ...request,
                method: spec.method as 'GET',
                path: spec.path,
                headers: spec.headers ?? {},
                body: spec.body,
              }
            },
          },
        ]
      : [
          {
            method: 'POST',
            path: workload.path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ refresh_token: tokens.shift() ?? 'exhausted' }),
            }),
            onResponse: (_status, body) => {
              const next = /"refresh_token":"([^"]+)"/.exec(body)?.[1]
              if (next) tokens.push(next)
            },
          },
        ]
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests,
    timeout: 10,
    ...(rate === undefined ? {} : { overallRate: rate }),
  })
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}
