// The OpenAPI document as clients consume it: valid 3.1, no secrets, named models, integer ids,
// every status the contract gives each route, no `default` on request fields, the same routes
// the app serves, and a typed client generated from it (openapi-typescript + openapi-fetch)
// that type-checks and works end to end against the running app.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import openapiTS, { astToString } from 'openapi-typescript'
import { createTestContext, uniqueEmail } from './support/context'

// Type-checking and running a generated client takes seconds on two cores.
setDefaultTimeout(60_000)

type Schema = Record<string, any>

const ROOT = join(import.meta.dir, '..')
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
const HIDDEN_PATHS = ['/docs', '/docs/:asset', '/docs/plugin', '/docs/plugin/openapi.json', '/openapi.json']

/** What the contract gives each operation: its success model and every status it may answer. */
const CONTRACT: Record<string, { statuses: number[]; success?: string; body?: string }> = {
  'GET /livez': { statuses: [200] },
  'GET /readyz': { statuses: [200, 503] },
  'POST /users/': { statuses: [201, 400, 409, 413, 415, 422, 503], success: 'User', body: 'UserCreate' },
  'GET /users/': { statuses: [200, 422, 503], success: 'UserList' },
  'GET /users/{user_id}': { statuses: [200, 404, 422, 503], success: 'User' },
  'PATCH /users/{user_id}': { statuses: [200, 400, 404, 409, 413, 415, 422, 503], success: 'User', body: 'UserUpdate' },
  'DELETE /users/{user_id}': { statuses: [200, 404, 422, 503] },
  'POST /users/{user_id}/items/': {
    statuses: [201, 400, 404, 413, 415, 422, 503],
    success: 'Item',
    body: 'ItemCreate',
  },
  'GET /items/': { statuses: [200, 422, 503], success: 'ItemList' },
  'GET /items/{item_id}': { statuses: [200, 404, 422, 503], success: 'Item' },
  'PATCH /items/{item_id}': { statuses: [200, 400, 404, 413, 415, 422, 503], success: 'Item', body: 'ItemUpdate' },
  'DELETE /items/{item_id}': { statuses: [200, 404, 422, 503] },
}

const ctx = createTestContext()
let doc: Schema
let contentType: string | null
let status: number

beforeAll(async () => {
  const res = await ctx.request('GET', '/openapi.json')
  status = res.status
  contentType = res.headers.get('content-type')
  doc = res.body
})

let server: { stop: () => Promise<void> } | undefined
const clientEmail = uniqueEmail('openapi-client')
afterAll(async () => {
  await server?.stop()
  // The typed client's user, even if the test stopped before deleting it (only ever ours).
  await ctx.sql`delete from users where email = ${clientEmail}`
  await ctx.cleanup()
})

const schemas = (): Record<string, Schema> => doc.components.schemas
const refName = (ref: string) => ref.replace('#/components/schemas/', '')

/** Every operation in the document, keyed `METHOD /path`. */
function operations(): Array<{ key: string; path: string; method: string; op: Schema }> {
  return Object.entries(doc.paths as Record<string, Schema>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      key: `${method.toUpperCase()} ${path}`,
      path,
      method,
      op: item[method],
    })),
  )
}

/** Every schema reachable from `schema`, following each `$ref` into its component once. */
function reachable(schema: Schema, at: string, seen = new Set<string>()): Array<{ at: string; schema: Schema }> {
  const found = [{ at, schema }]
  const visit = (child: unknown, where: string) => {
    if (child && typeof child === 'object' && !Array.isArray(child))
      found.push(...reachable(child as Schema, where, seen))
  }
  if (typeof schema.$ref === 'string' && !seen.has(schema.$ref)) {
    seen.add(schema.$ref)
    visit(schemas()[refName(schema.$ref)], schema.$ref)
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, `${at}/properties/${name}`)
  for (const key of ['items', 'additionalProperties', 'not', 'contains', 'if', 'then', 'else'])
    visit(schema[key], `${at}/${key}`)
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'])
    if (Array.isArray(schema[key]))
      schema[key].forEach((child: unknown, i: number) => visit(child, `${at}/${key}/${i}`))
  return found
}

/** Schema and property names a schema exposes, through every `$ref`. */
function namesIn(schema: Schema, at: string): string[] {
  return reachable(schema, at).flatMap(({ schema: s }) => [
    ...(typeof s.$ref === 'string' ? [refName(s.$ref)] : []),
    ...Object.keys(s.properties ?? {}),
  ])
}

function responseSchemas(): Array<{ at: string; schema: Schema }> {
  return operations().flatMap(({ key, op }) =>
    Object.entries(op.responses as Record<string, Schema>).flatMap(([code, response]) =>
      Object.values((response.content ?? {}) as Record<string, Schema>).map((media) => ({
        at: `${key} ${code}`,
        schema: media.schema as Schema,
      })),
    ),
  )
}

function requestSchemas(): Array<{ at: string; schema: Schema }> {
  return operations().flatMap(({ key, op }) => [
    ...Object.values((op.requestBody?.content ?? {}) as Record<string, Schema>).map((media) => ({
      at: `${key} body`,
      schema: media.schema as Schema,
    })),
    ...((op.parameters ?? []) as Schema[]).map((p) => ({ at: `${key} ${p.in} ${p.name}`, schema: p.schema as Schema })),
  ])
}

/** Every schema in the document: the components and each operation's own, inline ones. */
function allSchemas(): Array<{ at: string; schema: Schema }> {
  const roots = [
    ...Object.entries(schemas()).map(([name, schema]) => ({ at: `#/components/schemas/${name}`, schema })),
    ...responseSchemas(),
    ...requestSchemas(),
  ]
  return roots.flatMap(({ at, schema }) => reachable(schema, at))
}

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']
const NUMERIC_KEYWORDS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'multipleOf',
]

/** What is wrong with one schema as JSON Schema 2020-12 (the OpenAPI validator does not look inside schemas). */
function schemaProblems(schema: Schema): string[] {
  const problems: string[] = []
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]
  for (const type of types) if (!JSON_TYPES.includes(type)) problems.push(`type ${JSON.stringify(type)}`)
  for (const key of NUMERIC_KEYWORDS)
    if (key in schema && typeof schema[key] !== 'number') problems.push(`${key} ${JSON.stringify(schema[key])}`)
  if ('nullable' in schema) problems.push('nullable (OpenAPI 3.0; 3.1 uses type null)')
  if (
    'required' in schema &&
    !(Array.isArray(schema.required) && schema.required.every((name: unknown) => typeof name === 'string'))
  )
    problems.push('required')
  if (typeof schema.$ref === 'string' && !(refName(schema.$ref) in schemas()))
    problems.push(`unresolved ${schema.$ref}`)
  return problems
}

function parameter(key: string, name: string): Schema {
  const found = operations()
    .find((o) => o.key === key)
    ?.op.parameters?.find((p: Schema) => p.name === name)
  if (!found) throw new Error(`${key} has no parameter ${name}`)
  return found
}

describe('GET /openapi.json', () => {
  test('is a valid OpenAPI 3.1 JSON document', async () => {
    expect(status).toBe(200)
    expect(contentType).toStartWith('application/json')
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    const validator = new Validator()
    const result = await validator.validate(doc)
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2))
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  test('every schema in it is sound JSON Schema 2020-12 (types, numeric bounds, no 3.0 `nullable`)', () => {
    const found = allSchemas()
    expect(found.length).toBeGreaterThan(50)
    const problems = found.flatMap(({ at, schema }) => schemaProblems(schema).map((problem) => `${at}: ${problem}`))
    expect(problems).toEqual([])
    // The check itself: what @elysiajs/swagger writes for t.Date() or a string-typed bound is caught.
    expect(schemaProblems({ type: 'Date' })).toEqual(['type "Date"'])
    expect(schemaProblems({ type: 'integer', minimum: '1' })).toEqual(['minimum "1"'])
  })

  test('never mentions hashed_password, and no response carries a password', () => {
    expect(JSON.stringify(doc)).not.toContain('hashed_password')
    for (const { at, schema } of responseSchemas()) {
      const names = namesIn(schema, at)
      expect({ at, password: names.filter((name) => /password/i.test(name)) }).toEqual({ at, password: [] })
    }
    // The walk does see through references: requests have the password, User reaches Item.
    expect(namesIn({ $ref: '#/components/schemas/UserCreate' }, 'UserCreate')).toContain('password')
    expect(namesIn({ $ref: '#/components/schemas/UserUpdate' }, 'UserUpdate')).toContain('password')
    expect(namesIn({ $ref: '#/components/schemas/UserList' }, 'UserList')).toContain('owner_id')
  })

  test('names its models, and User.items refers to Item', () => {
    const names = Object.keys(schemas())
    for (const name of [
      'User',
      'UserCreate',
      'UserUpdate',
      'UserList',
      'Item',
      'ItemCreate',
      'ItemUpdate',
      'ItemList',
      'HTTPError',
      'HTTPValidationError',
    ])
      expect(names).toContain(name)
    expect(schemas().User!.properties.items).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Item' } })
    expect(schemas().UserList!.items).toEqual({ $ref: '#/components/schemas/User' })
    expect(schemas().ItemList!.items).toEqual({ $ref: '#/components/schemas/Item' })
    expect(schemas().User!.required).toEqual(
      expect.arrayContaining(['id', 'email', 'is_active', 'created_at', 'items']),
    )
    expect(schemas().UserCreate!.required).toEqual(['email', 'password'])
    expect(schemas().ItemCreate!.required).toEqual(['title'])
    expect(schemas().UserUpdate!.required ?? []).toEqual([])
    expect(schemas().ItemUpdate!.required ?? []).toEqual([])
  })

  test('ids, path parameters and paging numbers are integers with their bounds', () => {
    expect(schemas().User!.properties.id.type).toBe('integer')
    expect(schemas().Item!.properties.id.type).toBe('integer')
    expect(schemas().Item!.properties.owner_id.type).toBe('integer')
    const pathParams = operations().flatMap(({ key, op }) =>
      ((op.parameters ?? []) as Schema[]).filter((p) => p.in === 'path').map((p) => ({ key, p })),
    )
    expect(new Set(pathParams.map(({ p }) => p.name))).toEqual(new Set(['user_id', 'item_id']))
    for (const { key, p } of pathParams) {
      expect({ key, name: p.name, required: p.required, ...p.schema }).toEqual({
        key,
        name: p.name,
        required: true,
        type: 'integer',
        format: 'int64',
        minimum: 1,
      })
    }
    for (const key of ['GET /users/', 'GET /items/']) {
      expect(parameter(key, 'limit')).toMatchObject({
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 100 },
      })
      for (const name of ['offset', 'skip']) {
        const { schema } = parameter(key, name)
        expect(schema).toMatchObject({ type: 'integer', minimum: 0 })
        expect(schema.maximum === undefined || Number.isInteger(schema.maximum)).toBe(true)
      }
    }
  })

  test('documents every operation of the contract with all its statuses, described, as JSON', () => {
    expect(
      operations()
        .map((o) => o.key)
        .sort(),
    ).toEqual(Object.keys(CONTRACT).sort())
    for (const { key, op } of operations()) {
      const contract = CONTRACT[key]!
      expect({
        key,
        operationId: typeof op.operationId,
        summary: typeof op.summary,
        tags: op.tags?.length > 0,
      }).toEqual({
        key,
        operationId: 'string',
        summary: 'string',
        tags: true,
      })
      expect({ key, statuses: Object.keys(op.responses).map(Number) }).toEqual({
        key,
        statuses: expect.arrayContaining(contract.statuses),
      })
      for (const [code, response] of Object.entries(op.responses as Record<string, Schema>)) {
        const at = `${key} ${code}`
        expect({
          at,
          description: typeof response.description === 'string' && response.description.length > 0,
        }).toEqual({ at, description: true })
        expect({ at, media: Object.keys(response.content ?? {}) }).toEqual({ at, media: ['application/json'] })
        const schema = response.content['application/json'].schema
        expect({ at, schema: typeof schema }).toEqual({ at, schema: 'object' })
        const model =
          Number(code) === 422 ? 'HTTPValidationError' : Number(code) >= 400 ? 'HTTPError' : contract.success
        if (model) expect({ at, schema }).toEqual({ at, schema: { $ref: `#/components/schemas/${model}` } })
      }
      if (contract.body) {
        expect({ key, requestBody: op.requestBody }).toEqual({
          key,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${contract.body}` } } },
          },
        })
      } else {
        expect({ key, requestBody: op.requestBody }).toEqual({ key, requestBody: undefined })
      }
    }
    // Operation ids are unique: typed clients name functions after them.
    const ids = operations().map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('declares the Location header of every 201 and the Retry-After header of every 503', () => {
    for (const { key, op } of operations()) {
      if (op.responses['201'])
        expect({ key, header: op.responses['201'].headers?.Location?.schema }).toEqual({
          key,
          header: { type: 'string' },
        })
      if (op.responses['503'])
        expect({ key, header: op.responses['503'].headers?.['Retry-After']?.schema?.type }).toEqual({
          key,
          header: 'integer',
        })
    }
  })

  test('no request field or parameter has a `default` (typed clients would have to send it)', () => {
    const withDefault = requestSchemas().flatMap(({ at, schema }) =>
      reachable(schema, at)
        .filter(({ schema: s }) => 'default' in s)
        .map(({ at: where }) => where),
    )
    expect(withDefault).toEqual([])
    // The walk reaches every request model.
    const reached = new Set(requestSchemas().flatMap(({ at, schema }) => reachable(schema, at).map((r) => r.at)))
    for (const name of ['UserCreate', 'UserUpdate', 'ItemCreate', 'ItemUpdate'])
      expect(reached).toContain(`#/components/schemas/${name}`)
    for (const name of ['UserCreate', 'UserUpdate', 'ItemCreate', 'ItemUpdate'])
      expect(JSON.stringify(schemas()[name])).not.toContain('"default"')
  })

  test('documents exactly the routes the app serves, and hides its own', async () => {
    const served = ctx.app.routes
      .filter((route) => !HIDDEN_PATHS.includes(route.path))
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`)
    expect(served.sort()).toEqual(
      operations()
        .map((o) => o.key)
        .sort(),
    )
    for (const path of Object.keys(doc.paths)) {
      expect(path).not.toStartWith('/docs')
      expect(path).not.toBe('/openapi.json')
    }
    // Each documented operation is routed: an invalid id (0) or an empty body gets a documented
    // validation answer, never the router's 404 or 405, and nothing is written.
    for (const { key, path, method, op } of operations()) {
      const url = path.replace(/\{\w+\}/g, '0')
      const res = await ctx.request(
        method.toUpperCase(),
        url,
        op.requestBody ? { body: '', headers: { 'content-type': 'application/json' } } : {},
      )
      expect({ key, status: res.status }).not.toEqual({ key, status: 404 })
      expect({ key, status: res.status }).not.toEqual({ key, status: 405 })
      expect({ key, documented: Object.keys(op.responses).includes(String(res.status)) }).toEqual({
        key,
        documented: true,
      })
    }
    // Our hidden routes answer; the plugin's own page (CDN scripts) and raw document do not.
    for (const path of ['/docs', '/openapi.json']) expect((await ctx.request('GET', path)).status).toBe(200)
    for (const path of [
      '/docs/plugin',
      '/docs/plugin/',
      '/docs/plugin/openapi.json',
      '/docs/constructor',
      '/docs/toString',
    ]) {
      const res = await ctx.request('GET', path)
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { detail: 'Not Found' } })
    }
  })
})

describe('a typed client generated from the document', () => {
  const program = `// Generated by test/openapi.test.ts: an openapi-fetch client over the generated types.
import createClient from 'openapi-fetch'
import type { paths } from './schema'

const client = createClient<paths>({ baseUrl: process.env.API_BASE_URL! })

function fail(step: string, response: Response, error: unknown): never {
  throw new Error(\`\${step}: \${response.status} \${JSON.stringify(error)}\`)
}

const created = await client.POST('/users/', { body: { email: process.env.CLIENT_EMAIL!, password: 'correct horse battery' } })
if (!created.data) fail('create user', created.response, created.error)
// Ids only type-check as numbers.
const userId: number = created.data.id
const read = await client.GET('/users/{user_id}', { params: { path: { user_id: userId } } })
if (!read.data) fail('read user', read.response, read.error)

// Optional fields stay optional: a title alone is enough.
const item = await client.POST('/users/{user_id}/items/', { params: { path: { user_id: read.data.id } }, body: { title: 'From the typed client' } })
if (!item.data) fail('create item', item.response, item.error)
const itemId: number = item.data.id
const ownerId: number = item.data.owner_id
const description: string | null = item.data.description

const listed = await client.GET('/items/', { params: { query: { limit: 1, offset: 0 } } })
if (!listed.data) fail('list items', listed.response, listed.error)
const again = await client.GET('/users/{user_id}', { params: { path: { user_id: userId } } })
if (!again.data) fail('read user again', again.response, again.error)
const missing = await client.GET('/items/{item_id}', { params: { path: { item_id: Number.MAX_SAFE_INTEGER } } })
const detail: string | undefined = missing.error && 'detail' in missing.error && typeof missing.error.detail === 'string' ? missing.error.detail : undefined

// Compile-time only: ids are not strings, and a response never has a password.
export function neverCalled() {
  // @ts-expect-error a path id is a number
  void client.GET('/users/{user_id}', { params: { path: { user_id: '1' } } })
  // @ts-expect-error User has no password
  void created.data?.password
  // @ts-expect-error UserCreate needs a password
  void client.POST('/users/', { body: { email: 'a@b.co' } })
}

console.log(JSON.stringify({ user: read.data, item: item.data, itemId, ownerId, description, listed: listed.data, userItems: again.data.items, detail }))
`

  test('type-checks with ids as numbers, then creates, reads and lists through the running app', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openapi-client-'))
    try {
      await writeFile(join(dir, 'schema.d.ts'), astToString(await openapiTS(doc as any)))
      await writeFile(join(dir, 'client.ts'), program)
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ESNext',
            module: 'ESNext',
            moduleResolution: 'bundler',
            lib: ['ESNext'],
            types: ['bun'],
            strict: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: true,
            noEmit: true,
          },
          include: ['client.ts', 'schema.d.ts'],
        }),
      )
      // The project's node_modules, so `openapi-fetch` and Bun's types resolve as for the app.
      await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')

      const tsc = Bun.spawn(
        [process.execPath, join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '-p', dir],
        {
          cwd: dir,
          stdout: 'pipe',
          stderr: 'pipe',
        },
      )
      const [tscOut, tscErr, tscCode] = await Promise.all([
        new Response(tsc.stdout).text(),
        new Response(tsc.stderr).text(),
        tsc.exited,
      ])
      if (tscCode !== 0) console.error(`tsc failed on the generated client:\n${tscOut}${tscErr}`)
      expect(tscCode).toBe(0)

      const app = ctx.app.listen({ hostname: '127.0.0.1', port: 0 })
      server = { stop: async () => void (await app.stop()) }
      const baseUrl = `http://127.0.0.1:${app.server!.port}`
      const run = Bun.spawn([process.execPath, 'client.ts'], {
        cwd: dir,
        env: { ...process.env, API_BASE_URL: baseUrl, CLIENT_EMAIL: clientEmail },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [out, err, code] = await Promise.all([
        new Response(run.stdout).text(),
        new Response(run.stderr).text(),
        run.exited,
      ])
      if (code !== 0) console.error(`client failed (${code}):\n${out}${err}`)
      expect(code).toBe(0)

      const result = JSON.parse(out.trim().split('\n').pop()!)
      const userId: number = result.user.id
      expect(userId).toBeInteger()
      expect(result.user).toMatchObject({ email: clientEmail, is_active: true, items: [] })
      expect(result.item).toMatchObject({
        id: result.itemId,
        title: 'From the typed client',
        description: null,
        owner_id: userId,
      })
      expect(result.userItems).toEqual([result.item])
      expect(result.detail).toBe('Item not found')
      expect(result.listed).toBeArray()
      expect(result.listed.length).toBeLessThanOrEqual(1)

      const rows = await ctx.sql<{ id: string; email: string }[]>`select id, email from users where id = ${userId}`
      expect(rows.map((row) => ({ id: Number(row.id), email: row.email }))).toEqual([
        { id: userId, email: clientEmail },
      ])
      const items = await ctx.sql<{ id: string }[]>`select id from items where owner_id = ${userId}`
      expect(items.map((row) => Number(row.id))).toEqual([result.itemId])
      await ctx.sql`delete from users where id = ${userId}`
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
