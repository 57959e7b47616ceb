// Request ids and the one access line per request. The id is the client's X-Request-Id when it
// looks sane, else a new UUID; it goes back in the same header and into every log line.
import { Elysia } from 'elysia'
import type { Logger } from '../logger'

const SANE_ID = /^[A-Za-z0-9._:@-]{1,128}$/

interface RequestInfo {
  id: string
  start: number
}

const requests = new WeakMap<Request, RequestInfo>()

export const requestIdOf = (request: Request): string | undefined => requests.get(request)?.id

export function requestLog(logger: Logger) {
  return new Elysia({ name: 'request-log' })
    .onRequest(({ request, set }) => {
      const given = request.headers.get('x-request-id')
      const id = given && SANE_ID.test(given) ? given : crypto.randomUUID()
      requests.set(request, { id, start: performance.now() })
      set.headers['x-request-id'] = id
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, response, path }) => {
      // Runs after the response has gone: a throw here would be nobody's to catch.
      try {
        const info = requests.get(request)
        const status = response instanceof Response ? response.status : Number(set.status ?? 200)
        logger.info('request', {
          method: request.method,
          path,
          status,
          duration_ms: info ? Math.round((performance.now() - info.start) * 10) / 10 : undefined,
          request_id: info?.id,
        })
      } catch {
        // Logging must never take the service down.
      }
    })
}
