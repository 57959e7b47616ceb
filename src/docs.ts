// All OpenAPI and docs wiring lives here, so moving from @elysiajs/swagger (deprecated upstream)
// to @elysiajs/openapi touches this file only.
//
// The plugin generates the document from the routes' TypeBox schemas; `/openapi.json` serves it
// normalised (OpenAPI 3.1, JSON-only bodies, described responses, string-validated integers
// documented as integers). The plugin also registers its own page, which loads a UI from a CDN,
// and its raw document: both answer 404 to clients (the raw document is only read internally).
// `/docs` is our page over swagger-ui-dist's files, which works offline and under a strict
// Content-Security-Policy.

import { dirname, join } from 'node:path'
import { swagger } from '@elysiajs/swagger'
import { Elysia } from 'elysia'
import { NotFoundError } from './errors'
import { INTEGER_FORMAT_PREFIX } from './http/schema'

const PLUGIN_PATH = '/docs/plugin'
const PLUGIN_SPEC_PATH = `${PLUGIN_PATH}/openapi.json`
const uiDir = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
const initScript = join(import.meta.dir, 'docs-assets', 'init.js')

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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Rewrites schemas everywhere in the document: integers carried as strings, 3.1 nullability, no `$id`. */
function normaliseSchemas(node: Json): Json {
  if (Array.isArray(node)) return node.map(normaliseSchemas)
  if (!isObject(node)) return node
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) if (key !== '$id') out[key] = normaliseSchemas(value)
  if (typeof out.format === 'string' && out.format.startsWith(INTEGER_FORMAT_PREFIX)) {
    const { pattern: _p, format: _f, minimum, maximum, ...rest } = out
    const bound = (value: Json | undefined) =>
      typeof value === 'string' && Number.isSafeInteger(Number(value)) ? Number(value) : undefined
    return {
      ...rest,
      type: 'integer',
      format: 'int64',
      ...(bound(minimum) !== undefined && { minimum: bound(minimum)! }),
      ...(bound(maximum) !== undefined && { maximum: bound(maximum)! }),
    }
  }
  if (Array.isArray(out.anyOf) && out.nullable === true) delete out.nullable
  return out
}

const onlyJson = (content: Json | undefined): JsonObject | undefined =>
  isObject(content) && content['application/json'] !== undefined
    ? { 'application/json': content['application/json'] }
    : undefined

/** Every response described, every body JSON only (the plugin also lists form data and text). */
function normaliseOperations(paths: JsonObject, schemas: JsonObject): void {
  for (const operations of Object.values(paths)) {
    if (!isObject(operations)) continue
    for (const operation of Object.values(operations)) {
      if (!isObject(operation)) continue
      const body = operation.requestBody
      if (isObject(body)) body.content = onlyJson(body.content) ?? {}
      if (!isObject(operation.responses)) continue
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!isObject(response)) continue
        const content = onlyJson(response.content)
        const ref = isObject(content?.['application/json'])
          ? (content['application/json'] as JsonObject).schema
          : undefined
        const model = isObject(ref) && typeof ref.$ref === 'string' ? schemas[ref.$ref.split('/').pop()!] : undefined
        const describedModel = Number(status) < 400 && isObject(model) && typeof model.description === 'string'
        const description = describedModel ? (model.description as string) : statusText(status)
        operation.responses[status] = {
          description,
          ...(responseHeaders[status] && { headers: responseHeaders[status] }),
          ...(content && { content }),
        }
      }
    }
  }
}

/** Headers the contract sets, for clients that read them: where a created row is, when to retry. */
const responseHeaders: Record<string, JsonObject> = {
  '201': { Location: { description: 'The path of the created resource.', schema: { type: 'string' } } },
  '503': {
    'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
  },
}

const statusText = (status: string) =>
  ({
    '200': 'OK',
    '201': 'Created',
    '400': 'Bad Request',
    '404': 'Not Found',
    '409': 'Conflict',
    '413': 'Content Too Large',
    '415': 'Unsupported Media Type',
    '422': 'Validation Error',
    '503': 'Service Unavailable',
  })[status] ?? 'Response'

/** Replaces inline copies of a component schema (User.items holds Item) with a `$ref` to it. */
function referenceComponents(node: Json, byShape: Map<string, string>, isComponentRoot = false): Json {
  if (Array.isArray(node)) return node.map((child) => referenceComponents(child, byShape))
  if (!isObject(node)) return node
  const name = isComponentRoot ? undefined : byShape.get(JSON.stringify(node))
  if (name) return { $ref: `#/components/schemas/${name}` }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, referenceComponents(value, byShape)]))
}

export function normaliseDocument(raw: JsonObject): JsonObject {
  const doc = normaliseSchemas(raw) as JsonObject
  const components = isObject(doc.components) ? doc.components : {}
  const schemas = isObject(components.schemas) ? components.schemas : {}
  const byShape = new Map(Object.entries(schemas).map(([name, schema]) => [JSON.stringify(schema), name]))
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = referenceComponents(schema, byShape, true)
  if (isObject(doc.paths)) normaliseOperations(doc.paths, schemas)
  return doc
}

export interface DocsOptions {
  /** The finished app's request handler, to read the plugin's raw document once. */
  handle: (request: Request) => Promise<Response>
}

export function docs({ handle }: DocsOptions) {
  let document: Promise<JsonObject> | undefined
  const internal = new WeakSet<Request>()
  const load = async () => {
    const request = new Request(`http://localhost${PLUGIN_SPEC_PATH}`)
    internal.add(request)
    const response = await handle(request)
    return normaliseDocument((await response.json()) as JsonObject)
  }
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .onRequest(({ request }) => {
      if (new URL(request.url).pathname.startsWith(PLUGIN_PATH) && !internal.has(request))
        throw new NotFoundError('not_found', 'Not Found')
    })
    .use(
      swagger({
        path: PLUGIN_PATH,
        specPath: PLUGIN_SPEC_PATH,
        exclude: [/^\/docs/, '/openapi.json'],
        documentation: {
          openapi: '3.1.0',
          info: {
            title: 'Users and items API',
            version: '0.1.0',
            description:
              'Users and the items they own, over PostgreSQL. No authentication yet: do not expose it publicly.',
          },
          tags: [
            { name: 'users', description: 'Create, read, update and delete users.' },
            { name: 'items', description: 'Items, each owned by a user.' },
            { name: 'health', description: 'Liveness and readiness probes.' },
          ],
        },
      }),
    )
    .get(
      '/openapi.json',
      () => (document ??= load().catch((error) => ((document = undefined), Promise.reject(error)))),
      hidden,
    )
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
        if (!asset) throw new NotFoundError('not_found', 'Not Found')
        return new Response(Bun.file(asset.file), {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' },
        })
      },
      hidden,
    )
}
