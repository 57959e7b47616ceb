// What the service answers while it waits for its database at start (src/db/startup.ts): alive
// (/livez 200), not ready (/readyz 503), and everything else 503 with Retry-After, in the error
// contract's shape, with request ids, access lines and the security headers as always.
import type { Logger } from '../logger'
import { withRequestLog } from './request-log'
import { routable } from './routable'
import { withSecurityHeaders } from './security-headers'

const RETRY_AFTER_SECONDS = '2'

export function startingHandler(logger: Logger) {
  return withRequestLog(
    withSecurityHeaders(async (request) => {
      const { pathname } = new URL(routable(request).url)
      if (/^\/livez\/?$/.test(pathname) && (request.method === 'GET' || request.method === 'HEAD'))
        return Response.json({ status: 'ok' })
      return Response.json(
        { detail: 'Database unavailable', code: 'database_unavailable' },
        { status: 503, headers: { 'retry-after': RETRY_AFTER_SECONDS } },
      )
    }),
    logger,
  )
}
