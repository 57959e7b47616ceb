// What the OpenAPI document says of each operation: every status the contract gives it, described,
// with its headers and models; no `default` on request fields; exactly the routes the app serves.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestContext } from '../support/context'
import { OpenApiDocument, type Schema } from '../support/openapi'

const HIDDEN_PATHS = ['/docs', '/docs/:asset', '/openapi.json']

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
    const ids = api.operations().map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('declares the Location header of every 201 and the Retry-After header of every 503', () => {
    const answering = (status: number) =>
      Object.keys(CONTRACT).filter((key) => CONTRACT[key]!.statuses.includes(status))
    const operation = (key: string) => api.operations().find((o) => o.key === key)?.op
    expect(answering(201)).toEqual(['POST /users/', 'POST /users/{user_id}/items/'])
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
    for (const name of ['UserCreate', 'UserUpdate', 'ItemCreate', 'ItemUpdate'])
      expect(reached).toContain(`#/components/schemas/${name}`)
    for (const name of ['UserCreate', 'UserUpdate', 'ItemCreate', 'ItemUpdate'])
      expect(JSON.stringify(api.schemas[name])).not.toContain('"default"')
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
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 404,
        body: { detail: 'Not Found', code: 'not_found' },
      })
    }
  })
})
