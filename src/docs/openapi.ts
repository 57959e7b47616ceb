// The OpenAPI document, generated from the routes' TypeBox schemas by @elysiajs/swagger's own path
// generator, then normalised: OpenAPI 3.1, JSON-only bodies, every response described with the
// headers the contract sets, string-validated integers documented as integers, shared models as
// `$ref`s. Built from the app's route table directly: no request to the app, no hook on requests.
import { filterPaths, registerSchemaPath } from '@elysiajs/swagger/utils'
import type { TSchema } from '@sinclair/typebox'
import type { AnyElysia } from 'elysia'
import { EMAIL_MAX_LENGTH, EMAIL_PATTERN } from '../emails'
import { SECURITY_SCHEME } from '../http/auth'
import { ERROR_HEADERS } from '../http/error-handler'
import { INTEGER_FORMAT_PREFIX, textLengths } from '../http/schema'
import { REPLAYED_HEADER } from '../modules/idempotency/model'
import { LINK_HEADER, LIST, TOTAL_COUNT_HEADER } from '../paging'

const info = {
  title: 'Users and items API',
  version: '0.1.0',
  description:
    'Users and the items they own, over PostgreSQL. Log in at `POST /login/access-token` (OAuth2 password flow) and send the access token as `Authorization: Bearer <token>`; refresh at `POST /login/refresh`. Operations marked `x-access: superuser` are for superusers only.',
}

const tags = [
  { name: 'login', description: 'Log in, refresh the tokens, log out.' },
  { name: 'users', description: 'Accounts: sign up, your own, and (superusers) everyone’s.' },
  { name: 'sessions', description: 'Login sessions: list and end them.' },
  { name: 'items', description: 'Items, each owned by a user.' },
  { name: 'health', description: 'Liveness and readiness probes.' },
]

/** OAuth2's password flow, as FastAPI declares it, so Swagger UI's Authorize logs in. */
const securitySchemes = {
  [SECURITY_SCHEME]: {
    type: 'oauth2',
    description:
      'Log in with email and password; the access token lasts minutes, the refresh token swaps for a new pair.',
    flows: { password: { tokenUrl: '/login/access-token', refreshUrl: '/login/refresh', scopes: {} } },
  },
}

/** The models the app's modules registered with `.model(...)`: Elysia's own plugins read them this way. */
const modelsOf = (app: AnyElysia) =>
  (app as unknown as { getGlobalDefinitions(): { type: Record<string, TSchema> } }).getGlobalDefinitions().type

/** The document for every route of `app` except those marked `detail: { hide: true }`, and CORS preflights. */
export function openApiDocument(app: AnyElysia): JsonObject {
  const models = modelsOf(app)
  const paths = {}
  for (const route of app.routes) {
    if (route.hooks?.detail?.hide === true || route.method === 'OPTIONS') continue
    registerSchemaPath({ schema: paths, hook: route.hooks, method: route.method, path: route.path, models })
  }
  const raw = {
    openapi: '3.1.0',
    info,
    tags,
    paths: filterPaths(paths, { excludeStaticFile: true, exclude: [] }),
    components: { schemas: models, securitySchemes },
  }
  // Through JSON first: TypeBox keeps its metadata (and transforms) under symbols and functions.
  return normaliseDocument(JSON.parse(JSON.stringify(raw)))
}

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
  // Text and emails are checked by formats of the service's own (lengths in code points, the email
  // rule); the document states the same rules in JSON Schema's words, which every client reads.
  const lengths = typeof out.format === 'string' ? textLengths(out.format) : undefined
  if (lengths) {
    const { format: _f, ...rest } = out
    return { ...rest, ...(lengths.minLength > 0 && { minLength: lengths.minLength }), maxLength: lengths.maxLength }
  }
  if (out.format === 'email') {
    const { format: _f, ...rest } = out
    return { ...rest, maxLength: EMAIL_MAX_LENGTH, pattern: EMAIL_PATTERN }
  }
  if (Array.isArray(out.anyOf) && out.nullable === true) delete out.nullable
  return out
}

/** The media types this API reads and writes: JSON, and the login's form. */
const SERVED = ['application/json', 'application/x-www-form-urlencoded']

const onlyServed = (content: Json | undefined): JsonObject | undefined => {
  if (!isObject(content)) return undefined
  const served = Object.entries(content).filter(([type]) => SERVED.includes(type))
  return served.length ? Object.fromEntries(served) : undefined
}

/** Every response described, every body JSON (or the login form) only: the plugin also lists form data and text. */
function normaliseOperations(paths: JsonObject, schemas: JsonObject): void {
  for (const operations of Object.values(paths)) {
    if (!isObject(operations)) continue
    for (const operation of Object.values(operations)) {
      if (!isObject(operation)) continue
      const list = Object.keys(LIST).some((flag) => operation[flag] === true)
      for (const flag of Object.keys(LIST)) delete operation[flag]
      const body = operation.requestBody
      if (isObject(body)) body.content = onlyServed(body.content) ?? {}
      if (!isObject(operation.responses)) continue
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!isObject(response)) continue
        // Every answer is JSON, whatever the request's media type (the plugin lists the request's).
        const served = onlyServed(response.content)
        const content = served && { 'application/json': Object.values(served)[0]! }
        const ref = isObject(content?.['application/json'])
          ? (content['application/json'] as JsonObject).schema
          : undefined
        const model = isObject(ref) && typeof ref.$ref === 'string' ? schemas[ref.$ref.split('/').pop()!] : undefined
        const describedModel = Number(status) < 400 && isObject(model) && typeof model.description === 'string'
        const description = describedModel ? (model.description as string) : statusText(status)
        const headers = { ...responseHeaders[status], ...(list && status === '200' && listHeaders) }
        operation.responses[status] = {
          description,
          ...(Object.keys(headers).length > 0 && { headers }),
          ...(content && { content }),
        }
      }
    }
  }
}

type Header = { name: string; description: string; schema: JsonObject }
const headersObject = (headers: readonly Header[]): JsonObject =>
  Object.fromEntries(headers.map(({ name, description, schema }) => [name, { description, schema }]))

/** Headers the contract sets, for clients that read them: where a created row is; the error answers' own. */
const responseHeaders: Record<string, JsonObject> = {
  '201': headersObject([
    { name: 'Location', description: 'The path of the created resource.', schema: { type: 'string' } },
    {
      name: REPLAYED_HEADER,
      description: '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.',
      schema: { type: 'string', enum: ['true'] },
    },
  ]),
  ...Object.fromEntries(Object.entries(ERROR_HEADERS).map(([status, headers]) => [status, headersObject(headers)])),
}

const listHeaders = headersObject([
  { name: TOTAL_COUNT_HEADER, description: 'How many rows there are in all.', schema: { type: 'integer', minimum: 0 } },
  {
    name: LINK_HEADER,
    description:
      'When the page is full: `<path?after_id=<last id>&limit=<limit>>; rel="next"`, the next page by cursor (RFC 8288).',
    schema: { type: 'string' },
  },
])

const statusText = (status: string) =>
  ({
    '200': 'OK',
    '201': 'Created',
    '400': 'Bad Request',
    '401': 'Unauthorized',
    '403': 'Forbidden',
    '404': 'Not Found',
    '409': 'Conflict',
    '413': 'Content Too Large',
    '415': 'Unsupported Media Type',
    '422': 'Validation Error',
    '429': 'Too Many Requests',
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

function normaliseDocument(raw: JsonObject): JsonObject {
  const doc = normaliseSchemas(raw) as JsonObject
  const components = isObject(doc.components) ? doc.components : {}
  const schemas = isObject(components.schemas) ? components.schemas : {}
  const byShape = new Map(Object.entries(schemas).map(([name, schema]) => [JSON.stringify(schema), name]))
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = referenceComponents(schema, byShape, true)
  if (isObject(doc.paths)) normaliseOperations(doc.paths, schemas)
  return doc
}
