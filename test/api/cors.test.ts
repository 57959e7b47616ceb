// CORS: only the origins in CORS_ORIGINS may call the API from a browser; by default none may,
// and OPTIONS is 405 like any method a path does not serve.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import { type Account, createTestContext, databaseUrl } from '../support/context'

const ALLOWED = 'https://app.example.com'
const withCors = createTestContext({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } })
const withoutCors = createTestContext()
afterAll(async () => {
  await withCors.cleanup()
  await withoutCors.cleanup()
})

let user: Account
beforeAll(async () => {
  user = await withCors.account()
})

const preflight = (origin: string, path = '/items/') =>
  withCors.request('OPTIONS', path, {
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })

describe('with CORS_ORIGINS', () => {
  test('a preflight from an allowed origin is 204 with what it may send, for how long, and no credentials', async () => {
    const res = await preflight(ALLOWED)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, PATCH, DELETE')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-request-id, idempotency-key',
    )
    expect(res.headers.get('access-control-max-age')).toBe('600')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })

  test('an allowed origin reads the answer and the headers the contract gives meaning to', async () => {
    const res = await withCors.request('GET', '/items/', { token: user.token, headers: { origin: ALLOWED } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED)
    expect(res.headers.get('access-control-expose-headers')).toBe(
      'location, link, x-total-count, x-request-id, retry-after, www-authenticate, idempotent-replayed',
    )
  })

  test('an unknown path is still 404, and a wrong method 405 without OPTIONS in Allow', async () => {
    const unknown = await withCors.request('GET', '/nope', { headers: { origin: ALLOWED } })
    expect(unknown.status).toBe(404)
    expect(unknown.body.code).toBe('not_found')
    const wrong = await withCors.request('DELETE', '/users/', { headers: { origin: ALLOWED } })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, POST')
  })

  test('preflights are no operations of the API: the document does not list them', async () => {
    const document = (await withCors.request('GET', '/openapi.json')).body
    const methods = Object.values(document.paths).flatMap((operations) => Object.keys(operations as object))
    expect(methods).not.toContain('options')
    expect(Object.keys(document.paths)).not.toContain('/')
  })

  test('any other origin gets no Access-Control-Allow-Origin, so its browser keeps the answer from it', async () => {
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.net', 'http://app.example.com']) {
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull()
      const res = await withCors.request('GET', '/items/', { token: user.token, headers: { origin } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })
})

describe('without CORS_ORIGINS (the default)', () => {
  test('OPTIONS is 405 and no response names an origin', async () => {
    const res = await withoutCors.request('OPTIONS', '/items/', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
    })
    expect(res.status).toBe(405)
    const get = await withoutCors.request('GET', '/livez', { headers: { origin: ALLOWED } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
  })
})

test('CORS_ORIGINS takes origins or *, and names what it cannot read', () => {
  const env = { DATABASE_URL: databaseUrl() }
  expect(loadConfig({ ...env, CORS_ORIGINS: 'https://a.example.com:8443,*' }).corsOrigins).toEqual([
    'https://a.example.com:8443',
    '*',
  ])
  expect(() => loadConfig({ ...env, CORS_ORIGINS: 'https://a.example.com/path, example.com' })).toThrow(
    'CORS_ORIGINS must list origins like https://app.example.com, or * (not: https://a.example.com/path, example.com)',
  )
})
