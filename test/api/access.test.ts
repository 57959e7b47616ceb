// Who may call what: every protected route refuses a missing or bad token with 401 (and RFC 6750's
// challenge), refuses what is another user's (403, or 404 for items so ids leak nothing), and lets
// a superuser through. A new protected route must be added to ROUTES, or the first test fails.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose'
import { ACCESS_EXTENSION } from '../../src/http/auth'
import { createTokenService } from '../../src/security/tokens'
import { type Account, createTestContext, DEFAULT_PASSWORD, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

/** What a route is given: a fresh owner with an item, and the caller's account. */
interface Fixture {
  owner: Account
  itemId: number
}
interface Call {
  method: string
  path: string
  json?: unknown
}
/** Each protected route: a valid request about the owner's things, and what another user and a superuser get. */
const ROUTES: Record<string, { call: (f: Fixture) => Call; other: number; superuser: number }> = {
  'POST /logout': { call: () => ({ method: 'POST', path: '/logout' }), other: 200, superuser: 200 },
  'GET /users/me': { call: () => ({ method: 'GET', path: '/users/me' }), other: 200, superuser: 200 },
  'PATCH /users/me': {
    call: () => ({ method: 'PATCH', path: '/users/me', json: { full_name: 'Renamed' } }),
    other: 200,
    superuser: 200,
  },
  'PATCH /users/me/password': {
    call: () => ({
      method: 'PATCH',
      path: '/users/me/password',
      json: { current_password: DEFAULT_PASSWORD, new_password: 'another long password' },
    }),
    other: 200,
    superuser: 200,
  },
  'DELETE /users/me': { call: () => ({ method: 'DELETE', path: '/users/me' }), other: 200, superuser: 403 },
  'GET /users/me/sessions': { call: () => ({ method: 'GET', path: '/users/me/sessions' }), other: 200, superuser: 200 },
  'DELETE /users/me/sessions/:session_id': {
    call: (f) => ({ method: 'DELETE', path: `/users/me/sessions/${f.owner.sessionId}` }),
    other: 404,
    superuser: 404,
  },
  'DELETE /users/:user_id/sessions': {
    call: (f) => ({ method: 'DELETE', path: `/users/${f.owner.id}/sessions` }),
    other: 403,
    superuser: 200,
  },
  'POST /users/': {
    call: () => ({ method: 'POST', path: '/users/', json: { email: uniqueEmail('made'), password: DEFAULT_PASSWORD } }),
    other: 403,
    superuser: 201,
  },
  'GET /users/': { call: () => ({ method: 'GET', path: '/users/?limit=1' }), other: 403, superuser: 200 },
  'GET /users/:user_id': { call: (f) => ({ method: 'GET', path: `/users/${f.owner.id}` }), other: 403, superuser: 200 },
  'GET /users/:user_id/items/': {
    call: (f) => ({ method: 'GET', path: `/users/${f.owner.id}/items/` }),
    other: 403,
    superuser: 200,
  },
  'PATCH /users/:user_id': {
    call: (f) => ({ method: 'PATCH', path: `/users/${f.owner.id}`, json: { full_name: 'Changed' } }),
    other: 403,
    superuser: 200,
  },
  'DELETE /users/:user_id': {
    call: (f) => ({ method: 'DELETE', path: `/users/${f.owner.id}` }),
    other: 403,
    superuser: 200,
  },
  'POST /items/': {
    call: () => ({ method: 'POST', path: '/items/', json: { title: 'new' } }),
    other: 201,
    superuser: 201,
  },
  'POST /users/:user_id/items/': {
    call: (f) => ({ method: 'POST', path: `/users/${f.owner.id}/items/`, json: { title: 'gift' } }),
    other: 403,
    superuser: 201,
  },
  'GET /items/': { call: () => ({ method: 'GET', path: '/items/' }), other: 200, superuser: 200 },
  'GET /items/:item_id': { call: (f) => ({ method: 'GET', path: `/items/${f.itemId}` }), other: 404, superuser: 200 },
  'PATCH /items/:item_id': {
    call: (f) => ({ method: 'PATCH', path: `/items/${f.itemId}`, json: { title: 'changed' } }),
    other: 404,
    superuser: 200,
  },
  'DELETE /items/:item_id': {
    call: (f) => ({ method: 'DELETE', path: `/items/${f.itemId}` }),
    other: 404,
    superuser: 200,
  },
}

async function fixture(): Promise<Fixture> {
  const owner = await ctx.account()
  const item = await ctx.request('POST', '/items/', { token: owner.token, json: { title: 'owned', description: 'x' } })
  return { owner, itemId: item.body.id }
}

/** What the owner has, as the table holds it: a call that is refused must leave all of it alone. */
const snapshot = async ({ owner, itemId }: Fixture) => ({
  user: [
    ...(await ctx.sql`select email, full_name, is_active, is_superuser, hashed_password from users where id = ${owner.id}`),
  ],
  items: [...(await ctx.sql`select id, title, description from items where owner_id = ${owner.id} order by id`)],
  sessions: [
    ...(await ctx.sql`select id, token_hash, revoked_at from sessions where user_id = ${owner.id} order by id`),
  ],
  item: itemId,
})

const send = (call: Call, token?: string) =>
  ctx.request(call.method, call.path, { token, ...(call.json !== undefined && { json: call.json }) })

test('ROUTES lists every protected route the app serves, and only those', () => {
  const served = ctx.app.routes
    .filter((route) => (route.hooks as { detail?: Record<string, unknown> }).detail?.[ACCESS_EXTENSION])
    .map((route) => `${route.method} ${route.path}`)
  expect(served.sort()).toEqual(Object.keys(ROUTES).sort())
})

describe('bad tokens', () => {
  /** Named tokens that must all be refused, made in beforeAll. */
  const bad: Record<string, string> = {}
  let live: Account

  beforeAll(async () => {
    live = await ctx.account()
    const key = ctx.config.auth.secretKeys[0]!
    const { kid } = decodeProtectedHeader(live.token)
    const claims = { sid: live.sessionId }
    const signed = (header: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
      build(
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid, ...header })
          .setSubject(String(live.id))
          .setIssuer(ctx.config.auth.issuer)
          .setAudience(ctx.config.auth.audience)
          .setIssuedAt(),
      )
    const otherKey = crypto.getRandomValues(new Uint8Array(32))
    Object.assign(bad, {
      garbage: 'not-a-jwt',
      'wrong signature': await signed({}, (jwt) => jwt.setExpirationTime('5m')).sign(otherKey),
      'a tampered payload': `${live.token.split('.')[0]}.${Buffer.from(JSON.stringify({ sub: '1', sid: live.sessionId })).toString('base64url')}.${live.token.split('.')[2]}`,
      HS512: await signed({ alg: 'HS512' }, (jwt) => jwt.setExpirationTime('5m')).sign(key),
      'alg none': new UnsecuredJWT(claims)
        .setSubject(String(live.id))
        .setIssuer(ctx.config.auth.issuer)
        .setAudience(ctx.config.auth.audience)
        .setExpirationTime('5m')
        .encode(),
      'no exp': await signed({}).sign(key),
      expired: await signed({}, (jwt) =>
        jwt.setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime('-10m'),
      ).sign(key),
      'wrong typ': await signed({ typ: 'JWT' }, (jwt) => jwt.setExpirationTime('5m')).sign(key),
      'unknown kid': await signed({ kid: 'not-a-key-id' }, (jwt) => jwt.setExpirationTime('5m')).sign(key),
      'wrong aud': (
        await createTokenService({ ...ctx.config.auth, audience: 'another-api' }).issue({
          userId: String(live.id),
          sessionId: live.sessionId,
        })
      ).token,
      'wrong iss': (
        await createTokenService({ ...ctx.config.auth, issuer: 'someone-else' }).issue({
          userId: String(live.id),
          sessionId: live.sessionId,
        })
      ).token,
      'no sid': await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
        .setSubject(String(live.id))
        .setIssuer(ctx.config.auth.issuer)
        .setAudience(ctx.config.auth.audience)
        .setExpirationTime('5m')
        .sign(key),
    })
    // Well-signed tokens whose principal is gone.
    const deleted = await ctx.account()
    await ctx.sql`delete from users where id = ${deleted.id}`
    bad["a deleted user's"] = deleted.token
    const inactive = await ctx.account()
    await ctx.sql`update users set is_active = false where id = ${inactive.id}`
    bad["a deactivated user's"] = inactive.token
    const revoked = await ctx.account()
    expect((await ctx.request('POST', '/logout', { token: revoked.token })).status).toBe(200)
    bad["a revoked session's"] = revoked.token
    const superseded = await ctx.account({ superuser: true })
    await ctx.sql`update sessions set expires_at = now() - interval '1 second' where id = ${superseded.sessionId}`
    bad["an expired session's"] = superseded.token
  })

  test('the live token these are made from works', async () => {
    expect((await ctx.request('GET', '/users/me', { token: live.token })).status).toBe(200)
  })

  test('every protected route: no token is 401 `Bearer`; each bad token is 401 with error="invalid_token"; nothing changes', async () => {
    const f = await fixture()
    const before = await snapshot(f)
    for (const [route, { call }] of Object.entries(ROUTES)) {
      const request = call(f)
      const none = await send(request)
      expect({ route, status: none.status, body: none.body, challenge: none.headers.get('www-authenticate') }).toEqual({
        route,
        status: 401,
        body: { detail: 'Not authenticated', code: 'not_authenticated' },
        challenge: 'Bearer',
      })
      for (const [name, token] of Object.entries(bad)) {
        const res = await send(request, token)
        expect({ route, name, status: res.status, body: res.body }).toEqual({
          route,
          name,
          status: 401,
          body: { detail: 'Could not validate credentials', code: 'invalid_token' },
        })
        expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
        expect(res.text).not.toContain(token)
      }
    }
    expect(await snapshot(f)).toEqual(before)
  })

  test('the scheme is Bearer, in any letter case; other schemes are no token', async () => {
    const ok = await ctx.request('GET', '/users/me', { headers: { authorization: `bearer ${live.token}` } })
    expect(ok.status).toBe(200)
    for (const authorization of [
      `Basic ${btoa('a:b')}`,
      `Token ${live.token}`,
      'Bearer',
      `Bearer ${live.token} extra`,
    ]) {
      const res = await ctx.request('GET', '/users/me', { headers: { authorization } })
      expect({ authorization, status: res.status, code: res.body.code }).toEqual({
        authorization,
        status: 401,
        code: 'not_authenticated',
      })
    }
  })
})

describe("another user's token, and a superuser's", () => {
  test.each(Object.keys(ROUTES))('%s', async (route) => {
    const { call, other, superuser } = ROUTES[route]!
    const f = await fixture()
    const before = await snapshot(f)
    const stranger = await ctx.account()
    const refused = await send(call(f), stranger.token)
    expect(refused.status).toBe(other)
    if (other >= 400) {
      expect(await snapshot(f)).toEqual(before)
      if (other === 403)
        expect(refused.body).toEqual({ detail: "The user doesn't have enough privileges", code: 'forbidden' })
      if (other === 404) expect(refused.body.code).toMatch(/_not_found$/)
    } else {
      // What a self-scoped route did, it did to the caller: the owner's account is as it was.
      expect((await snapshot(f)).user).toEqual(before.user)
    }
    const su = await ctx.account({ superuser: true })
    expect((await send(call(await fixture()), su.token)).status).toBe(superuser)
  })
})
