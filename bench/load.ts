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

/** The latencies of one kind of answer, in milliseconds. */
export interface Latencies {
  count: number
  p50: number
  p99: number
  p999: number
}

/**
 * A run whose answers are timed apart by kind: the accepted (2xx/3xx), the refused (503), and a
 * count of anything else. Under overload the two tell different stories.
 */
export interface SplitResult {
  seconds: number
  accepted: Latencies
  refused: Latencies
  /** Answers neither accepted nor 503, and connection errors. */
  other: number
  /** Sent but not answered when the run ended: the slowest, so the percentiles leave them out. */
  unfinished: number
}

/** The nearest-rank percentile `q` (0 to 1) of values sorted in ascending order; 0 if there are none. */
export const percentile = (sorted: number[], q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)]!

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

/**
 * `runLoad`, timing accepted and refused answers apart ('pick' workloads only). With wrk, a `rate`
 * here is offered on a schedule of its own, whatever the answers' latency (as arrivals from many
 * clients are), as far as the connections allow: under overload, gaps counted from each answer
 * would let the offered load fall as latency grows (autocannon's overallRate is a budget per second
 * instead). Each request is timed from its write, so a wait for a free connection is not in it.
 */
export async function runSplitLoad(options: LoadOptions): Promise<SplitResult> {
  const { workload } = options
  if (workload.kind !== 'pick') throw new Error('a split run takes a pick workload')
  const result = await (usesWrk() ? runWrkSplit(workload.requests, options) : runAutocannonSplit(options))
  if (result.accepted.count + result.refused.count === 0 && result.other > 0)
    throw new Error('no answer could be matched to its request: is X-Request-Id echoed, did any request connect?')
  return result
}

const THREADS = 2
const lua = (value: string) => JSON.stringify(value)

function luaRequest({ method, path, headers = {}, body }: RequestSpec): string {
  const headerTable = Object.entries(headers)
    .map(([name, value]) => `[${lua(name)}]=${lua(value)}`)
    .join(',')
  return `{${lua(method)},${lua(path)},{${headerTable}},${body === undefined ? 'nil' : lua(body)}}`
}

// wrk waits delay() ms after each answer before a connection's next request: exponential gaps whose
// mean spreads `rate` over the connections.
const pacing = (connections: number, rate?: number) =>
  rate === undefined
    ? ''
    : `
local mean_gap = ${(connections * 1000) / rate}
delay = function() return -mean_gap * math.log(1 - math.random()) end`

// A 'pick' workload's requests, and each thread numbered (`seed`) and kept for done().
const pickPrelude = (requests: RequestSpec[]) => `
local requests = {${requests.map(luaRequest).join(',\n')}}
local threads = {}
setup = function(thread) table.insert(threads, thread); thread:set("seed", #threads) end
init = function(args) math.randomseed(os.time() * 1000 + seed) end`

function wrkScript(workload: Workload, connections: number, rate?: number): string {
  const done = `${pacing(connections, rate)}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_RESULT {"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"p999":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.status + e.timeout))
end`
  if (workload.kind === 'pick') {
    return `${pickPrelude(workload.requests)}
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

// wrk's own percentiles mix every answer. Here each request carries an X-Request-Id (the service
// echoes it) and the monotonic clock (LuaJIT's FFI) times it from its write to its answer, into the
// accepted or the refused list; done() prints every thread's lists, whose percentiles are taken as
// autocannon's are. wrk calls delay() before each
// connection's first request and after each answer: here it hands out the thread's next slot on a
// fixed schedule (wrk rounds it down to whole milliseconds; the schedule, not the rounding, sets the
// rate).
function wrkSplitScript(requests: RequestSpec[], rate?: number): string {
  const schedule =
    rate === undefined
      ? ''
      : `
local mean_gap = ${(THREADS * 1000) / rate}
local next_at
delay = function()
  local now = now_ms()
  next_at = (next_at or now) - mean_gap * math.log(1 - math.random())
  return math.max(0, next_at - now)
end`
  return `${pickPrelude(requests)}
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local clock = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
${schedule}
local sent = 0
started, accepted, refused, other = {}, {}, {}, 0
request = function()
  local r = requests[math.random(#requests)]
  sent = sent + 1
  local id = "bench-" .. seed .. "-" .. sent
  local headers = {["X-Request-Id"] = id}
  for name, value in pairs(r[3]) do headers[name] = value end
  started[id] = now_ms()
  return wrk.format(r[1], r[2], headers, r[4])
end
response = function(status, headers, body)
  local id = headers["x-request-id"] or headers["X-Request-Id"]
  local t0 = id and started[id]
  if not t0 then other = other + 1; return end
  started[id] = nil
  local ms = now_ms() - t0
  if status < 400 then table.insert(accepted, ms) elseif status == 503 then table.insert(refused, ms) else other = other + 1 end
end
done = function(summary, latency, requests)
  local a, r, o, u = {}, {}, 0, 0
  for _, thread in ipairs(threads) do
    for _, ms in ipairs(thread:get("accepted")) do table.insert(a, ms) end
    for _, ms in ipairs(thread:get("refused")) do table.insert(r, ms) end
    for _ in pairs(thread:get("started")) do u = u + 1 end
    o = o + thread:get("other")
  end
  -- Timeouts are left out: a late answer still reaches response() and is counted there.
  local e = summary.errors
  io.write(string.format('BENCH_RESULT {"seconds":%f,"accepted":[%s],"refused":[%s],"other":%d,"unfinished":%d}\\n',
    summary.duration / 1e6, table.concat(a, ","), table.concat(r, ","), o + e.connect + e.read + e.write, u))
end`
}

/** Runs wrk with `script` and answers its BENCH_RESULT line, parsed. */
async function wrk(script: string, { url, connections, seconds }: LoadOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  try {
    const file = join(dir, 'scenario.lua')
    writeFileSync(file, script)
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
        file,
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
    return JSON.parse(line.slice('BENCH_RESULT '.length))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const raw = (await wrk(wrkScript(options.workload, options.connections, options.rate), options)) as {
    requests: number
    duration_us: number
    p50: number
    p99: number
    p999: number
    errors: number
  }
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
}

async function runWrkSplit(requests: RequestSpec[], options: LoadOptions): Promise<SplitResult> {
  const raw = (await wrk(wrkSplitScript(requests, options.rate), options)) as Omit<
    SplitResult,
    'accepted' | 'refused'
  > & { accepted: number[]; refused: number[] }
  return { ...raw, accepted: latencies(raw.accepted), refused: latencies(raw.refused) }
}

/** The count and percentiles of one kind of answer's latencies (sorts them in place). */
function latencies(list: number[]): Latencies {
  list.sort((a, b) => a - b)
  return { count: list.length, p50: percentile(list, 0.5), p99: percentile(list, 0.99), p999: percentile(list, 0.999) }
}

/** autocannon's requests for a workload; `onSend` is told of each request it builds. */
function autocannonRequests(workload: Workload, onSend?: () => void): autocannon.Request[] {
  if (workload.kind === 'pick')
    return [
      {
        setupRequest: (request) => {
          onSend?.()
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
  // One queue of refresh tokens for all connections (autocannon clears a connection's context after
  // each request): a token goes out, the answer's next token comes back.
  const tokens = [...workload.tokens]
  return [
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
}

const autocannonOptions = (
  { url, workload, connections, seconds, rate }: LoadOptions,
  onSend?: () => void,
): autocannon.Options => ({
  url,
  connections,
  duration: seconds,
  requests: autocannonRequests(workload, onSend),
  timeout: 10,
  ...(rate === undefined ? {} : { overallRate: rate }),
})

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon(autocannonOptions(options))
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

async function runAutocannonSplit(options: LoadOptions): Promise<SplitResult> {
  const { default: autocannon } = await import('autocannon')
  const accepted: number[] = []
  const refused: number[] = []
  let other = 0
  // Counted here: autocannon's own `requests.sent` starts each connection at its rate budget.
  let sent = 0
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      autocannonOptions(options, () => sent++),
      (error, result) => (error ? reject(error) : resolve(result)),
    )
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status < 400) accepted.push(ms)
      else if (status === 503) refused.push(ms)
      else other++
    })
    instance.on('reqError', () => other++)
  })
  const answered = accepted.length + refused.length + other
  return {
    seconds: result.duration,
    accepted: latencies(accepted),
    refused: latencies(refused),
    other,
    unfinished: Math.max(0, sent - answered),
  }
}
