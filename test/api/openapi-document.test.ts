// The OpenAPI document as clients consume it: valid 3.1, sound schemas, no secrets, named models,
// integer ids. What it says of each operation is in openapi-operations.test.ts; a typed client
// generated from it is in test/system/openapi-client.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { ERROR_CODES } from '../../src/http/errors'
import { createTestContext } from '../support/context'
import { OpenApiDocument, type Schema } from '../support/openapi'

const ctx = createTestContext()
let api: OpenApiDocument
let doc: Schema
let contentType: string | null
let status: number

beforeAll(async () => {
  const res = await ctx.request('GET', '/openapi.json')
  status = res.status
  contentType = res.headers.get('content-type')
  doc = res.body
  api = new OpenApiDocument(doc)
})
afterAll(() => ctx.cleanup())

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
    const found = api.allSchemas()
    expect(found.length).toBeGreaterThan(50)
    const problems = found.flatMap(({ at, schema }) => api.schemaProblems(schema).map((problem) => `${at}: ${problem}`))
    expect(problems).toEqual([])
    // The check itself: what @elysiajs/swagger writes for t.Date() or a string-typed bound is caught.
    expect(api.schemaProblems({ type: 'Date' })).toEqual(['type "Date"'])
    expect(api.schemaProblems({ type: 'integer', minimum: '1' })).toEqual(['minimum "1"'])
  })

  test('never mentions hashed_password, and no response carries a password', () => {
    expect(JSON.stringify(doc)).not.toContain('hashed_password')
    for (const { at, schema } of api.responseSchemas()) {
      const names = api.namesIn(schema, at)
      expect({ at, password: names.filter((name) => /password/i.test(name)) }).toEqual({ at, password: [] })
    }
    // The walk does see through references: requests have the password, User reaches Item.
    expect(api.namesIn({ $ref: '#/components/schemas/UserCreate' }, 'UserCreate')).toContain('password')
    expect(api.namesIn({ $ref: '#/components/schemas/UserUpdate' }, 'UserUpdate')).toContain('password')
    expect(api.namesIn({ $ref: '#/components/schemas/UserList' }, 'UserList')).toContain('owner_id')
  })

  test('names its models, and User.items refers to Item', () => {
    const names = Object.keys(api.schemas)
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
    expect(api.schemas.User!.properties.items).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/Item' },
      description: expect.stringContaining('USER_ITEMS_EMBED_MAX'),
    })
    expect(api.schemas.User!.properties.items_count).toMatchObject({ type: 'integer', minimum: 0 })
    expect(api.schemas.UserList!.items).toEqual({ $ref: '#/components/schemas/User' })
    expect(api.schemas.ItemList!.items).toEqual({ $ref: '#/components/schemas/Item' })
    expect(api.schemas.User!.required).toEqual(
      expect.arrayContaining(['id', 'email', 'is_active', 'created_at', 'items_count', 'items']),
    )
    expect(api.schemas.UserCreate!.required).toEqual(['email', 'password'])
    expect(api.schemas.ItemCreate!.required).toEqual(['title'])
    expect(api.schemas.UserUpdate!.required ?? []).toEqual([])
    expect(api.schemas.ItemUpdate!.required ?? []).toEqual([])
  })

  test('errors have a `code` from one documented list, beside `detail`', () => {
    for (const name of ['HTTPError', 'HTTPValidationError']) {
      const model = api.schemas[name]!
      expect({ name, required: model.required }).toEqual({ name, required: ['detail', 'code'] })
      expect({ name, code: model.properties.code }).toEqual({
        name,
        code: { type: 'string', enum: [...ERROR_CODES], description: expect.any(String) },
      })
    }
  })

  test('ids, path parameters and paging numbers are integers with their bounds', () => {
    expect(api.schemas.User!.properties.id.type).toBe('integer')
    expect(api.schemas.Item!.properties.id.type).toBe('integer')
    expect(api.schemas.Item!.properties.owner_id.type).toBe('integer')
    const pathParams = api
      .operations()
      .flatMap(({ key, op }) =>
        ((op.parameters ?? []) as Schema[]).filter((p) => p.in === 'path').map((p) => ({ key, p })),
      )
    expect(new Set(pathParams.map(({ p }) => p.name))).toEqual(new Set(['user_id', 'item_id', 'session_id']))
    for (const { key, p } of pathParams.filter(({ p }) => p.name !== 'session_id')) {
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
      expect(api.parameter(key, 'limit')).toMatchObject({
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 100 },
      })
      for (const name of ['offset', 'skip']) {
        const { schema } = api.parameter(key, name)
        expect(schema).toMatchObject({ type: 'integer', minimum: 0 })
        expect(schema.maximum === undefined || Number.isInteger(schema.maximum)).toBe(true)
      }
    }
  })
})
