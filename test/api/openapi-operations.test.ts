// What the OpenAPI document says of each operation: every status the contract gives it, described,
// with its headers and models; no `default` on request fields; exactly the routes the app serves.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestContext } from '../support/context'
import { OpenApiDocument, type Schema } from '../support/openapi'

const HIDDEN_PATHS = ['/docs', '/docs/:asset', '/openapi.json']

type Access = 'user' | 'superuser'

/** What the contract gives each operation: its success model, every status it may answer, who may call it. */
const CONTRACT: Record<
  string,
  { statuses: number[]; success?: string; body?: string; media?: string[]; access?: Access }
> = {
  'GET /livez': { statuses: [200] },
  'GET /readyz': { statuses: [200, 503] },
  'POST /login/access-token': {
    statuses: [200, 400, 413, 415, 422, 429, 503],
    success: 'Token',
    body: 'LoginForm',
    media: ['application/x-www-form-urlencoded'],
  },
  'POST /login/refresh': {
    statuses: [200, 401, 413, 415, 422, 503],
    success: 'Token',
    body: 'RefreshRequest',
    media: ['application/json', 'application/x-www-form-urlencoded'],
  },
  'POST /logout': { statuses: [200, 401, 503], access: 'user' },
  'POST /users/signup': {
    statuses: [201, 400, 403, 409, 413, 415, 422, 503],
    success: 'User',
    body: 'UserRegister',
  },
  'GET /users/me': { statuses: [200, 401, 503], success: 'User', access: 'user' },
  'PATCH /users/me': {
    statuses: [200, 400, 401, 409, 413, 415, 422, 503],
    success: 'User',
    body: 'UserUpdateMe',
    access: 'user',
  },
  'PATCH /users/me/password': {
    statuses: [200, 400, 401, 413, 415, 422, 503],
    body: 'UpdatePassword',
    access: 'user',
  },
  'DELETE /users/me': { statuses: [200, 401, 403, 503], access: 'user' },
  'GET /users/me/sessions': { statuses: [200, 401, 503], success: 'SessionList', access: 'user' },
  'DELETE /users/me/sessions/{session_id}': { statuses: [200, 401, 404, 422, 503], access: 'user' },
  'DELETE /users/{user_id}/sessions': { statuses: [200, 401, 403, 404, 422, 503], access: 'superuser' },
  'POST /users/': {
    statuses: [201, 400, 401, 403, 409, 413, 415, 422, 503],
    success: 'User',
    body: 'UserCreate',
    access: 'superuser',
  },
  'GET /users/': { statuses: [200, 401, 403, 422, 503], success: 'UserList', access: 'superuser' },
  'GET /users/{user_id}': { statuses: [200, 401, 403, 404, 422, 503], success: 'User', access: 'user' },
  'PATCH /users/{user_id}': {
    statuses: [200, 400, 401, 403, 404, 409, 413, 415, 422, 503],
    success: 'User',
    body: 'UserUpdate',
    access: 'superuser',
  },
  'DELETE /users/{user_id}': { statuses: [200, 401, 403, 404, 422, 503], access: 'superuser' },
  'POST /items/': {
    statuses: [201, 400, 401, 409, 413, 415, 422, 503],
    success: 'Item',
    body: 'ItemCreate',
    access: 'user',
  },
  'GET /users/{user_id}/items/': { statuses: [200, 401, 403, 404, 422, 503], success: 'ItemList', access: 'user' },
  'POST /users/{user_id}/items/': {
    statuses: [201, 400, 401, 403, 404, 409, 413, 415, 422, 503],
    success: 'Item',
    body: 'ItemCreate',
    access: 'user',
  },
  'GET /items/': { statuses: [200, 401, 422, 503], success: 'ItemList', access: 'user' },
  'GET /items/{item_id}': { statuses: [200, 401, 404, 422, 503], success: 'Item', access: 'user' },
  'PATCH /items/{item_id}': {
    statuses: [200, 400, 401, 404, 413, 415, 422, 503],
    success: 'Item',
    body: 'ItemUpdate',
    access: 'user',
  },
  'DELETE /items/{item_id}': { statuses: [200, 401, 404, 422, 503], access: 'user' },
}

const ctx = createTestContext()
let api: OpenApiDocument
let doc: Schema

beforeAll(async () => {
  doc = (await ctx.request('GET', '/openapi.json')).body
  api = new OpenApiDocument(doc)
})
afterAll(() => ctx.cleanup())

describe('the operations in /openapi.json', () => {
  test('documents every operation of the contract with all its statuses, described, as JSON', () => {
    expect(
      api
        .operations()
        .map((o) => o.key)
        .sort(),
    ).toEqual(Object.keys(CONTRACT).sort())
    for (const { key, op } of api.operations()) {
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
        // Without a named model (health's status, a delete's `{ok: true}`), an object schema of its own.
        expect({ at, schema }).toEqual({
          at,
          schema: model
            ? { $ref: `#/components/schemas/${model}` }
            : expect.objectContaining({ type: 'object', properties: expect.any(Object) }),
        })
      }
      if (contract.body) {
        const schema = { schema: { $ref: `#/components/schemas/${contract.body}` } }
        const media = contract.media ?? ['application/json']
        expect({ key, requestBody: op.requestBody }).toEqual({
          key,
          requestBody: { required: true, content: Object.fromEntries(media.map((type) => [type, schema])) },
        })
      } else {
        expect({ key, requestBody: op.requestBody }).toEqual({ key, requestBody: undefined })
      }
    }
    // Operation ids are unique: typed clients name functions after them.
    const ids = api.operations().map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('declares the Location header of every 201 and the Retry-After header of every 503', () => {
    const answering = (status: number) =>
      Object.keys(CONTRACT).filter((key) => CONTRACT[key]!.statuses.includes(status))
    const operation = (key: string) => api.operations().find((o) => o.key === key)?.op
    expect(answering(201)).toEqual([
      'POST /users/signup',
      'POST /users/',
      'POST /items/',
      'POST /users/{user_id}/items/',
    ])
    for (const key of answering(201)) {
      const header = operation(key)?.responses['201']?.headers?.Location
      expect({ key, header }).toEqual({ key, header: { description: expect.any(String), schema: { type: 'string' } } })
    }
    // Every operation but liveness may find the database unavailable.
    expect(answering(503)).toEqual(Object.keys(CONTRACT).filter((key) => key !== 'GET /livez'))
    for (const key of answering(503)) {
      const header = operation(key)?.responses['503']?.headers?.['Retry-After']
      expect({ key, header }).toEqual({
        key,
        header: { description: expect.any(String), schema: { type: 'integer', minimum: 1 } },
      })
    }
  })

  test('protected operations need the OAuth2 bearer token, say who may call them, and declare 401 with its challenge', () => {
    for (const { key, op } of api.operations()) {
      const access = CONTRACT[key]!.access
      expect({ key, security: op.security, access: op['x-access'] }).toEqual({
        key,
        security: access ? [{ OAuth2PasswordBearer: [] }] : undefined,
        access,
      })
      if (access) {
        expect({ key, header: op.responses['401']?.headers?.['WWW-Authenticate'] }).toEqual({
          key,
          header: { description: expect.any(String), schema: { type: 'string' } },
        })
      }
      if (access === 'superuser') expect({ key, forbidden: '403' in op.responses }).toEqual({ key, forbidden: true })
    }
    expect(doc.components.securitySchemes).toEqual({
      OAuth2PasswordBearer: {
        type: 'oauth2',
        description: expect.any(String),
        flows: { password: { tokenUrl: '/login/access-token', refreshUrl: '/login/refresh', scopes: {} } },
      },
    })
    const login = api.operations().find((o) => o.key === 'POST /login/access-token')!.op
    expect(login.responses['429'].headers['Retry-After']).toEqual({
      description: expect.any(String),
      schema: { type: 'integer', minimum: 1 },
    })
    for (const key of ['GET /users/', 'GET /items/', 'GET /users/{user_id}/items/']) {
      const op = api.operations().find((o) => o.key === key)!.op
      expect(op.responses['200'].headers['X-Total-Count']).toEqual({
        description: expect.any(String),
        schema: { type: 'integer', minimum: 0 },
      })
      expect(op.responses['200'].headers.Link).toEqual({ description: expect.any(String), schema: { type: 'string' } })
      expect(op['x-list']).toBeUndefined()
      expect(api.parameter(key, 'after_id')).toMatchObject({
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 0 },
      })
    }
  })

  test('no request field or parameter has a `default` (typed clients would have to send it)', () => {
    const withDefault = api.requestSchemas().flatMap(({ at, schema }) =>
      api
        .reachable(schema, at)
        .filter(({ schema: s }) => 'default' in s)
        .map(({ at: where }) => where),
    )
    expect(withDefault).toEqual([])
    // The walk reaches every request model.
    const reached = new Set(
      api.requestSchemas().flatMap(({ at, schema }) => api.reachable(schema, at).map((r) => r.at)),
    )
    const models = [
      'LoginForm',
      'RefreshRequest',
      'UserRegister',
      'UserCreate',
      'UserUpdate',
      'UserUpdateMe',
      'UpdatePassword',
      'ItemCreate',
      'ItemUpdate',
    ]
    for (const name of models) expect(reached).toContain(`#/components/schemas/${name}`)
    for (const name of models) expect(JSON.stringify(api.schemas[name])).not.toContain('"default"')
  })

  test('documents exactly the routes the app serves, and hides its own', async () => {
    const served = ctx.app.routes
      .filter((route) => !HIDDEN_PATHS.includes(route.path))
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`)
    expect(served.sort()).toEqual(
      api
        .operations()
        .map((o) => o.key)
        .sort(),
    )
    for (const path of Object.keys(doc.paths)) {
      expect(path).not.toStartWith('/docs')
      expect(path).not.toBe('/openapi.json')
    }
    // Each documented operation is routed: an invalid id (0) or an empty body gets a documented
    // validation answer, never the router's 404 or 405, and nothing is written.
    for (const { key, path, method, op } of api.operations()) {
      const url = path.replace(/\{\w+\}/g, '0')
      const type = Object.keys(op.requestBody?.content ?? {})[0]
      const res = await ctx.request(
        method.toUpperCase(),
        url,
        type ? { body: '', headers: { 'content-type': type } } : {},
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
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 404,
        body: { detail: 'Not Found', code: 'not_found' },
      })
    }
  })
})
