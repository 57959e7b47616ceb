// Browsers on the origins in CORS_ORIGINS may call the API; no others (the default: none, and
// OPTIONS stays 405). Tokens travel in the Authorization header, never in cookies, so credentials
// are not allowed. A browser may read the headers the contract gives meaning to.
import { cors } from '@elysiajs/cors'

export function corsFor(origins: string[]) {
  return cors({
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'idempotency-key'],
    exposeHeaders: [
      'location',
      'link',
      'x-total-count',
      'x-request-id',
      'retry-after',
      'www-authenticate',
      'idempotent-replayed',
    ],
    credentials: false,
    maxAge: 600,
  })
}
