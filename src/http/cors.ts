// Browsers on the origins in CORS_ORIGINS may call the API; no others (the default: none, and
// OPTIONS stays 405). Tokens travel in the Authorization header, never in cookies, so credentials
// are not allowed. A browser may read the headers the contract gives meaning to.
import { cors } from '@elysiajs/cors'

/** What a browser may read of an answer: the headers the contract gives meaning to. */
const EXPOSED = [
  'location',
  'link',
  'x-total-count',
  'x-request-id',
  'retry-after',
  'www-authenticate',
  'idempotent-replayed',
]

/**
 * The CORS headers of an answer made outside the app (a refusal over MAX_INFLIGHT), as the plugin
 * would give it: none unless the request's origin may call the API.
 */
export function corsHeadersFor(origins: string[]): (request: Request) => Record<string, string> {
  const any = origins.includes('*')
  return (request): Record<string, string> => {
    const origin = request.headers.get('origin')
    if (origin === null || !(any || origins.includes(origin))) return {}
    return {
      'access-control-allow-origin': origin,
      vary: 'Origin',
      'access-control-expose-headers': EXPOSED.join(', '),
    }
  }
}

export function corsFor(origins: string[]) {
  return cors({
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'idempotency-key'],
    exposeHeaders: EXPOSED,
    credentials: false,
    maxAge: 600,
  })
}
