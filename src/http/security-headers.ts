// Headers every response carries, as OWASP's REST Security Cheat Sheet lists them: no content
// sniffing, no referrer, and a Content-Security-Policy that lets a JSON answer load nothing and be
// framed by no one. The docs page sets a policy of its own (src/docs/), which is kept.
import type { Handle } from './request-log'

const API_POLICY = "default-src 'none'; frame-ancestors 'none'"

/** The headers as an API answer carries them, for an answer made outside the app. */
export const API_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': API_POLICY,
} as const

function secure(response: Response): Response {
  const { headers } = response
  headers.set('x-content-type-options', API_SECURITY_HEADERS['x-content-type-options'])
  headers.set('referrer-policy', API_SECURITY_HEADERS['referrer-policy'])
  if (!headers.has('content-security-policy')) headers.set('content-security-policy', API_POLICY)
  return response
}

/** `handle`, with the security headers on every response it gives. */
export const withSecurityHeaders =
  (handle: Handle): Handle =>
  (request) =>
    handle(request).then(secure)
