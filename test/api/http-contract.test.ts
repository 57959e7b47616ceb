// The error contract: every error is JSON in the documented shape, checks come in the documented
// order, and nothing a client sends can produce a 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Account, createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext({ env: { MAX_BODY_BYTES: '1000' } })
afterAll(() => ctx.cleanup())

let user: Account
let su: Account
beforeAll(async () => {
  user = await ctx.account()
  su = await ctx.account({ superuser: true })
})

const big = JSON.stringify({ email: uniqueEmail(), password: 'p'.repeat(2000) })

describe('order of checks', () => {
  test('an unknown route is 404 {"detail":"Not Found"}, whatever the body', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/nope'],
      ['GET', '/users/1/nope'],
      ['DELETE', '/'],
    ]) {
      const res = await ctx.request(method!, path!, { body: big, headers: { 'content-type': 'text/plain' } })
      expect(res.status).toBe(404)
      expect(res.body).toEqual({ detail: 'Not Found', code: 'not_found' })
      expect(res.headers.get('content-type')).toStartWith('application/json')
    }
  })

  test('a known path with a wrong method is 405 with Allow, before any body check', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/users/', 'GET, HEAD, POST'],
      ['PUT', '/users/1', 'DELETE, GET, HEAD, PATCH'],
      ['POST', '/items/1/', 'DELETE, GET, HEAD, PATCH'],
      ['PUT', '/users/1/items/', 'GET, HEAD, POST'],
      ['OPTIONS', '/items/', 'GET, HEAD, POST'],
      ['POST', '/livez', 'GET, HEAD'],
    ]
    for (const [method, path, allow] of cases) {
      const res = await ctx.request(method, path, { body: big, headers: { 'content-type': 'text/plain' } })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe(allow)
      expect(res.body).toEqual({ detail: 'Method Not Allowed', code: 'method_not_allowed' })
    }
  })

  test('a body over MAX_BODY_BYTES is 413, before its type or syntax is looked at', async () => {
    for (const contentType of ['application/json', 'text/plain']) {
      const res = await ctx.request('POST', '/users/signup', {
        body: `${big}{`,
        headers: { 'content-type': contentType },
      })
      expect(res.status).toBe(413)
      expect(res.body).toEqual({ detail: 'Request body is larger than 1000 bytes', code: 'body_too_large' })
    }
  })

  test('a streamed body (no Content-Length) is cut off at the limit with 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(400))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 50) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await ctx.app.handle(
      new Request('http://localhost/users/signup', {
        method: 'POST',
        body: stream,
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(response.status).toBe(413)
    expect(sent).toBeLessThan(50)
  })

  test("a body whose stream breaks mid-way is 400, the client's to fix, not a 500", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"email":'))
        controller.error(new Error('the client went away'))
      },
    })
    const response = await ctx.app.handle(
      new Request('http://localhost/users/signup', {
        method: 'POST',
        body: stream,
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ detail: 'There was an error parsing the body', code: 'malformed_body' })
  })

  test('a non-JSON or missing content type on a body is 415, before its syntax is looked at', async () => {
    const cases: [string, Record<string, string>][] = [
      ['{not json', { 'content-type': 'text/plain' }],
      ['email=a@b.co&password=12345678', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['{"email":"a@b.co","password":"12345678"}', {}],
    ]
    for (const [body, headers] of cases) {
      const res = await ctx.request('POST', '/users/signup', { body, headers })
      expect(res.status).toBe(415)
      expect(res.body).toEqual({ detail: 'Content-Type must be application/json', code: 'unsupported_media_type' })
    }
  })

  test('application/json with a charset, and +json types, are accepted', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const res = await ctx.request('POST', '/users/signup', {
        body: JSON.stringify({}),
        headers: { 'content-type': type },
      })
      expect(res.status).toBe(422)
    }
  })

  test('malformed JSON is 400 {"detail": ...}, before validation', async () => {
    for (const body of ['{bad', '{"email": 5,', '[1,2', "{'a':1}", '\u00ff']) {
      const res = await ctx.request('POST', '/users/signup', { body, headers: { 'content-type': 'application/json' } })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ detail: 'There was an error parsing the body', code: 'malformed_body' })
    }
  })

  test('bytes that are not UTF-8 are 400', async () => {
    const response = await ctx.app.handle(
      new Request('http://localhost/users/signup', {
        method: 'POST',
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(response.status).toBe(400)
  })

  test('an empty body is 422 listing the missing fields, with or without a content type', async () => {
    for (const headers of [{ 'content-type': 'application/json' }, {}] as Record<string, string>[]) {
      const res = await ctx.request('POST', '/users/signup', { body: '', headers })
      expect(res.status).toBe(422)
      expect(res.body.detail.map((d: any) => [d.loc, d.type])).toEqual([
        [['body', 'email'], 'missing'],
        [['body', 'password'], 'missing'],
      ])
    }
  })

  test('validation (422) comes before what the data says (404)', async () => {
    const res = await ctx.request('POST', '/users/9223372036854775807/items/', { token: su.token, json: { title: '' } })
    expect(res.status).toBe(422)
  })

  test('a deeply nested body, or field, is a 422, never a crash', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
    for (const body of [deep(100), `{"email":${deep(40)},"password":"correct horse battery"}`]) {
      const res = await ctx.request('POST', '/users/signup', { body, headers: { 'content-type': 'application/json' } })
      expect(res.status).toBe(422)
      expect(res.body.detail[0].loc).toEqual(['body'])
    }
  })

  test('a body sent with DELETE is ignored, whatever it is', async () => {
    const item = await ctx.request('POST', '/items/', { token: user.token, json: { title: 'deleted with a body' } })
    const res = await ctx.request('DELETE', `/items/${item.body.id}`, {
      token: user.token,
      body: '{not json',
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
  })
})

describe('order of checks on protected routes', () => {
  const badBodies: [string, Record<string, string>, number][] = [
    ['{not json', { 'content-type': 'text/plain' }, 415],
    ['{bad', { 'content-type': 'application/json' }, 400],
    ['{"title": ""}', { 'content-type': 'application/json' }, 422],
  ]

  test('404 and 405 come before 401', async () => {
    expect((await ctx.request('GET', '/items/1/nope')).status).toBe(404)
    expect((await ctx.request('PUT', '/items/1')).status).toBe(405)
  })

  test('413 comes before 401', async () => {
    const res = await ctx.request('POST', '/items/', { body: big, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(413)
  })

  test('no token, or a bad one, is 401 before anything about the body, the path or the query', async () => {
    for (const token of [undefined, 'not-a-jwt', `${user.token}x`]) {
      for (const [body, headers] of badBodies) {
        const res = await ctx.request('POST', '/items/', { body, headers, token })
        expect(res.status).toBe(401)
        expect(res.body.code).toBe(token === undefined ? 'not_authenticated' : 'invalid_token')
        expect(res.text).not.toContain('title')
      }
      for (const method of ['GET', 'HEAD']) {
        expect((await ctx.request(method, '/items/abc', { token })).status).toBe(401)
        expect((await ctx.request(method, '/items/?limit=0', { token })).status).toBe(401)
      }
    }
  })

  test("a revoked session's token is 401 before a bad body too", async () => {
    const gone = await ctx.account()
    expect((await ctx.request('POST', '/logout', { token: gone.token })).status).toBe(200)
    for (const [body, headers] of badBodies) {
      const res = await ctx.request('PATCH', '/items/1', { body, headers, token: gone.token })
      expect(res.status).toBe(401)
      expect(res.body.code).toBe('invalid_token')
    }
  })

  test('on a superuser-only route, 403 comes before anything about the body; a superuser gets the body errors', async () => {
    for (const [body, headers, status] of badBodies) {
      const refused = await ctx.request('POST', '/users/', { body, headers, token: user.token })
      expect(refused.status).toBe(403)
      expect(refused.body.code).toBe('forbidden')
      const answered = await ctx.request('POST', '/users/', { body, headers, token: su.token })
      expect(answered.status).toBe(status)
    }
    expect((await ctx.request('GET', '/users/?limit=0', { token: user.token })).status).toBe(403)
    expect((await ctx.request('GET', '/users/?limit=0', { token: su.token })).status).toBe(422)
  })
})

describe('HEAD', () => {
  test('answers like GET without a body', async () => {
    const headers = { authorization: `Bearer ${su.token}` }
    const get = await ctx.app.handle(new Request(`http://localhost/users/${user.id}`, { headers }))
    const head = await ctx.app.handle(new Request(`http://localhost/users/${user.id}`, { method: 'HEAD', headers }))
    expect(get.status).toBe(200)
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
    expect(await head.text()).toBe('')
    const missing = await ctx.app.handle(
      new Request('http://localhost/users/9223372036854775807', { method: 'HEAD', headers }),
    )
    expect(missing.status).toBe(404)
  })
})

describe('request ids', () => {
  test('a sane X-Request-Id is returned as sent', async () => {
    const res = await ctx.request('GET', '/livez', { headers: { 'x-request-id': 'abc-123.XYZ_9' } })
    expect(res.headers.get('x-request-id')).toBe('abc-123.XYZ_9')
  })

  test('a missing or unsafe one is replaced by a fresh UUID, on errors too', async () => {
    for (const headers of [
      {},
      { 'x-request-id': 'has spaces and\ttabs' },
      { 'x-request-id': 'x'.repeat(200) },
    ] as Record<string, string>[]) {
      const res = await ctx.request('GET', '/nope', { headers })
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('security headers', () => {
  test('every response, error or not, says nosniff and no-referrer and has a policy; none says what serves it', async () => {
    const answers = [
      await ctx.request('GET', '/livez'),
      await ctx.request('GET', `/users/${user.id}`, { token: user.token }),
      await ctx.request('GET', '/users/me'),
      await ctx.request('GET', '/nope'),
      await ctx.request('DELETE', '/users/'),
      await ctx.request('POST', '/items/', { token: user.token, json: {} }),
      await ctx.request('GET', '/openapi.json'),
      await ctx.request('GET', '/docs/swagger-ui.css'),
    ]
    expect(answers.map((res) => res.status)).toEqual([200, 200, 401, 404, 405, 422, 200, 200])
    for (const { headers } of answers) {
      expect(headers.get('x-content-type-options')).toBe('nosniff')
      expect(headers.get('referrer-policy')).toBe('no-referrer')
      expect(headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
      expect(headers.get('x-powered-by')).toBeNull()
      expect(headers.get('server')).toBeNull()
    }
  })

  test('the docs page keeps its own policy, which lets it load its own scripts and styles (tested in Chromium too)', async () => {
    const res = await ctx.request('GET', '/docs')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  })
})
