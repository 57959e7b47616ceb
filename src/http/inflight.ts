// A bound on requests in flight (MAX_INFLIGHT): past it, a request is answered 503 with Retry-After
// at once, before any work, so that overload is shed instead of queued: the requests accepted keep
// their latency, and memory does not grow with the queue. The probes are never refused: a
// load balancer must still learn that the process lives and whether it is ready. A request counts
// from its headers, so one whose body trickles in holds its place until IDLE_TIMEOUT_SECONDS cuts
// it off: behind a proxy that buffers bodies (nginx does by default) none reaches the service.
//
// It wraps the request log: refusing must cost far less than serving, or shedding frees nothing
// (measured: a refusal through the log and the error handler cost ~40% of a served read). So a
// refusal is one prepared answer with its own id, and the log says how many were refused, once a
// second while it lasts, instead of a line each.
import type { Logger } from '../logger'
import { type Handle, newRequestId, pathOf } from './request-log'
import { API_SECURITY_HEADERS } from './security-headers'

// With or without a trailing slash, as every route answers.
const PROBES = new Set(['/livez', '/readyz', '/livez/', '/readyz/'])

const REFUSAL = JSON.stringify({ detail: 'The service is at capacity, try again', code: 'overloaded' })
const REFUSAL_HEADERS = { ...API_SECURITY_HEADERS, 'content-type': 'application/json', 'retry-after': '1' }
const REPORT_EVERY_MS = 1000

/**
 * `handle`, refusing requests beyond `max` in flight (0: no bound). CORS preflights pass (the CORS
 * layer answers them without work, and a refused one would hide the 503 from the browser), and a
 * refusal carries the CORS headers `corsHeaders` gives it.
 */
export function withInflightLimit(
  handle: Handle,
  {
    max,
    logger,
    corsHeaders,
  }: { max: number; logger: Logger; corsHeaders: (request: Request) => Record<string, string> },
): Handle {
  if (max === 0) return handle
  let inflight = 0
  let refused = 0
  let reporter: ReturnType<typeof setInterval> | undefined
  const report = () => {
    if (refused === 0) {
      clearInterval(reporter)
      reporter = undefined
      return
    }
    logger.warn('requests refused: over MAX_INFLIGHT', { refused, max_inflight: max })
    refused = 0
  }
  // No async wrapper on the way of every request: one reaction on its answer gives the place back.
  const release = () => {
    inflight--
  }
  return (request) => {
    if (inflight >= max && request.method !== 'OPTIONS' && !PROBES.has(pathOf(request.url))) {
      refused++
      if (reporter === undefined) {
        reporter = setInterval(report, REPORT_EVERY_MS)
        reporter.unref()
      }
      return Promise.resolve(
        new Response(REFUSAL, {
          status: 503,
          headers: { ...REFUSAL_HEADERS, ...corsHeaders(request), 'x-request-id': newRequestId(request) },
        }),
      )
    }
    inflight++
    const answer = handle(request)
    answer.then(release, release)
    return answer
  }
}
