// All OpenAPI and docs wiring lives in src/docs/, so moving from @elysiajs/swagger (deprecated
// upstream) to @elysiajs/openapi touches this folder only.
//
// `/openapi.json` serves the document (openapi.ts). `/docs` is Swagger UI over swagger-ui-dist's
// files, with no CDN and no inline script, so it works offline and under a strict
// Content-Security-Policy. The swagger plugin itself is not mounted: its page loads a UI from a
// CDN, and its routes would have to be hidden from clients.

import { dirname, join } from 'node:path'
import { type AnyElysia, Elysia } from 'elysia'
import { RequestError } from '../http/errors'
import { openApiDocument } from './openapi'

const uiDir = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
const initScript = join(import.meta.dir, 'init.js')

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Users and items API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// A Map, not an object: `/docs/constructor` must not find Object.prototype's members.
const assets = new Map<string, { file: string; type: string }>([
  ['swagger-ui.css', { file: join(uiDir, 'swagger-ui.css'), type: 'text/css; charset=utf-8' }],
  ['swagger-ui-bundle.js', { file: join(uiDir, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' }],
  ['favicon-32x32.png', { file: join(uiDir, 'favicon-32x32.png'), type: 'image/png' }],
  ['init.js', { file: initScript, type: 'text/javascript; charset=utf-8' }],
])

/**
 * The docs routes, hidden from the document themselves. `documented` is the app whose routes the
 * document describes; it is generated once, when first asked for, when every route exists.
 */
export function docs(documented: AnyElysia) {
  let document: ReturnType<typeof openApiDocument> | undefined
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .get('/openapi.json', () => (document ??= openApiDocument(documented)), hidden)
    .get(
      '/docs',
      ({ set }) => {
        set.headers['content-type'] = 'text/html; charset=utf-8'
        set.headers['content-security-policy'] = CSP
        return page
      },
      hidden,
    )
    .get(
      '/docs/:asset',
      ({ params }) => {
        const asset = assets.get(params.asset)
        if (!asset) throw new RequestError('not_found', 'Not Found')
        return new Response(Bun.file(asset.file), {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' },
        })
      },
      hidden,
    )
}
