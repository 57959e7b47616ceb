// What the service answers while it waits for its database at start (src/db/startup.ts): alive
// (/livez 200), not ready (/readyz 503), and everything else 503 with Retry-After, in the error
// contract's shape, with request ids, access lines and the security headers as always.
import { databaseUnavailable } from '../db/errors'
import type { Logger } from '../logger'
import { responseFor } from './error-handler'
import { withRequestLog } from './request-log'
import { routable } from './routable'
import { withSecurityHeaders } from './security-headers'

export function startingHandler(logger: Logger) {
  return withRequestLog(
    withSecurityHeaders(async (request) => {
      const { pathname } = new URL(routable(request).url)
      if (/^\/livez\/?$/.test(pathname) && (request.method === 'GET' || request.method === 'HEAD'))
        return Response.json({ status: 'ok' })
      return responseFor(databaseUnavailable())
    }),
    logger,
  )
}
