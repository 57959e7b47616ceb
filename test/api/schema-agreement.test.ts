// Defect 7 of issue 13: a client generated from the OpenAPI document must agree with the server on
// what is valid. Each value below is judged twice: by the document's own schema for the field
// (its pattern compiled as JSON Schema says, lengths in code points) and by the service (201 or 422).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Account, createTestContext, DEFAULT_PASSWORD, uniqueEmail } from '../support/context'
import { OpenApiDocument, type Schema } from '../support/openapi'

const ctx = createTestContext()
let api: OpenApiDocument
let owner: Account
beforeAll(async () => {
  api = new OpenApiDocument((await ctx.request('GET', '/openapi.json')).body)
  owner = await ctx.account()
})
afterAll(() => ctx.cleanup())

/** What JSON Schema says of a string against `schema` (type, lengths in code points, pattern). */
function documentAllows(schema: Schema, value: string): boolean {
  const length = [...value].length
  if (schema.minLength !== undefined && length < schema.minLength) return false
  if (schema.maxLength !== undefined && length > schema.maxLength) return false
  return schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value)
}

const field = (model: string, name: string): Schema => {
  const schema = api.schemas[model]!.properties[name]
  return schema.anyOf ? schema.anyOf.find((s: Schema) => s.type === 'string') : schema
}

const unique = () => crypto.randomUUID().slice(0, 8)

describe('the document says what the service enforces', () => {
  test('text fields: no format of our own, lengths as minLength/maxLength, NUL refused by a plain pattern', () => {
    expect(field('ItemCreate', 'title')).toEqual({
      type: 'string',
      pattern: '^[^\\u0000]*$',
      minLength: 1,
      maxLength: 255,
    })
    expect(field('ItemCreate', 'description')).toEqual({ type: 'string', pattern: '^[^\\u0000]*$', maxLength: 10000 })
    const email = field('UserRegister', 'email')
    expect(email.format).toBeUndefined()
    expect(email.maxLength).toBe(254)
    for (const { schema } of api.allSchemas()) {
      if (typeof schema.pattern !== 'string') continue
      expect(schema.pattern).not.toMatch(/\\u[dD][89a-fA-F]/)
      expect(() => new RegExp(schema.pattern, 'u')).not.toThrow()
    }
  })

  const emails = () => [
    `e${unique()}@example.com`,
    `  e${unique()}@example.com `,
    `é${unique()}@exämple.com`,
    `用户${unique()}@例子.广告`,
    `${'😀'.repeat(233)}${unique()}@b.co`, // 254 characters, 479 UTF-16 units
    `${'😀'.repeat(234)}${unique()}@b.co`,
    `0${unique()}@com`,
    `a${unique()}@b`,
    `a${unique()}@@b.co`,
    `a b${unique()}@c.de`,
    `@b${unique()}.co`,
    `a${unique()}@.co`,
    `a${unique()}@b.`,
    `a${unique()}@b..co`,
    `a\u200b${unique()}@b.co`,
    `a${unique()}@b\u{E0041}.co`,
    `a\u2028${unique()}@b.co`,
    `a${unique()}\u00a0@b.co`,
  ]

  test('emails: the service accepts exactly those the document allows', async () => {
    const schema = field('UserRegister', 'email')
    const verdicts = []
    for (const email of emails()) {
      const res = await ctx.request('POST', '/users/signup', { json: { email, password: DEFAULT_PASSWORD } })
      expect([201, 422]).toContain(res.status)
      verdicts.push({ email, document: documentAllows(schema, email), service: res.status === 201 })
    }
    expect(verdicts.filter((v) => v.document !== v.service)).toEqual([])
    // Both verdicts occur: the comparison is not vacuous.
    expect(new Set(verdicts.map((v) => v.service))).toEqual(new Set([true, false]))
  })

  test('text: lengths count characters, as JSON Schema does, not UTF-16 units', async () => {
    const schema = field('ItemCreate', 'title')
    const titles = ['😀'.repeat(255), '😀'.repeat(256), `${'a'.repeat(254)}😀`, 'x', '', 'nul\u0000', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢']
    const verdicts = []
    for (const title of titles) {
      const res = await ctx.request('POST', '/items/', { json: { title }, token: owner.token })
      verdicts.push({ title: title.slice(0, 12), document: documentAllows(schema, title), service: res.status === 201 })
      if (res.status === 201) {
        const [row] = await ctx.sql`select title from items where id = ${res.body.id}`
        expect(row!.title).toBe(title)
      }
    }
    expect(verdicts.filter((v) => v.document !== v.service)).toEqual([])
    expect(verdicts.filter((v) => v.service)).toHaveLength(4)
  })

  test('a 255-emoji title is 201 and a 256-emoji one is 422 string_too_long; passwords count characters too', async () => {
    const long = await ctx.request('POST', '/items/', { json: { title: '😀'.repeat(256) }, token: owner.token })
    expect(long.status).toBe(422)
    expect(long.body.detail).toEqual([
      { loc: ['body', 'title'], msg: 'String should have at most 255 characters', type: 'string_too_long' },
    ])
    // Eight characters are a long enough password, whatever their encoding; four emoji are not.
    const ok = await ctx.request('POST', '/users/signup', { json: { email: uniqueEmail(), password: '🔑'.repeat(8) } })
    expect(ok.status).toBe(201)
    const short = await ctx.request('POST', '/users/signup', {
      json: { email: uniqueEmail(), password: '🔑'.repeat(4) },
    })
    expect(short.status).toBe(422)
    expect(short.body.detail[0].type).toBe('string_too_short')
    const login = await ctx.request('POST', '/login/access-token', {
      form: { username: ok.body.email, password: '🔑'.repeat(8) },
    })
    expect(login.status).toBe(200)
  })

  test('an email that NFC makes longer than 254 characters (each U+0958 becomes two) still logs in as the API answers it', async () => {
    const email = `${'\u0958'.repeat(240)}${unique()}@b.co`
    const password = DEFAULT_PASSWORD
    const signup = await ctx.request('POST', '/users/signup', { json: { email, password } })
    expect(signup.status).toBe(201)
    expect([...signup.body.email].length).toBeGreaterThan(254)
    expect((await ctx.login(signup.body.email, password)).status).toBe(200)
    expect((await ctx.login(email, password)).status).toBe(200)
  })
})
