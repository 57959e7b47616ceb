// Elysia finds the path by searching for '/' from the 11th character of the URL, which assumes a
// host of at least four characters: `Host: api` makes `/users/` a 404, and a request without a
// Host header (HTTP/1.0 health checks) has a bare path for a URL, which also breaks `new URL()`.
// Such requests are given a fixed origin before they reach the app; the rest pass untouched.

const ORIGIN = 'http://localhost'
const MIN_HOST = 4

export function routable(request: Request): Request {
  const url = request.url
  if (url.startsWith('/')) return new Request(ORIGIN + url, request)
  const hostStart = url.indexOf('//') + 2
  const pathStart = url.indexOf('/', hostStart)
  if (pathStart === -1) return new Request(`${ORIGIN}/`, request)
  if (pathStart - hostStart >= MIN_HOST) return request
  return new Request(ORIGIN + url.slice(pathStart), request)
}
