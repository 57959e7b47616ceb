// Request ids and the one access line per request. The id is the client's X-Request-Id when it
// looks sane, else a new UUID; it goes back in the same header and into every log line.
//
// This wraps the app's handler instead of riding Elysia's onRequest and onAfterResponse hooks: an
// after-response hook costs a setImmediate and an async function per request, and a header set
// through `set` takes every response off Elysia's compact path (together ~6% of a by-id read's CPU,
// bench/). The line is written once the response exists; the logger batches its writes.
import type { Logger } from '../logger'

const SANE_ID = /^[A-Za-z0-9._:@-]{1,128}$/

const ids = new WeakMap<Request, string>()

export const requestIdOf = (request: Request): string | undefined => ids.get(request)

/** What serves a request: the app's `handle`, or a wrapper of it. */
export type Handle = (request: Request) => Promise<Response>

/** The path of a request's URL, without its query: what the access line names. */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}

/** The client's X-Request-Id when it looks sane, else a new UUID. */
export function newRequestId(request: Request): string {
  const given = request.headers.get('x-request-id')
  return given && SANE_ID.test(given) ? given : crypto.randomUUID()
}

/** `handle`, giving each request its id (header and logs) and logging one line per answer. */
export function withRequestLog(handle: Handle, logger: Logger): Handle {
  return async (request) => {
    const start = performance.now()
    const id = newRequestId(request)
    ids.set(request, id)
    const response = await handle(request)
    response.headers.set('x-request-id', id)
    try {
      logger.info('request', {
        method: request.method,
        path: pathOf(request.url),
        status: response.status,
        duration_ms: Math.round((performance.now() - start) * 10) / 10,
        request_id: id,
      })
    } catch {
      // Logging must never take a request down.
    }
    return response
  }
}
