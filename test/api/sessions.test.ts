// Sessions: refresh tokens rotate on every use, a replayed one ends the whole session, and a session
// ended any way (logout, revocation, expiry) stops its access tokens at once. Listing shows sessions,
// never tokens.
import { afterAll, describe, expect, test } from 'bun:test'
import { createTestContext } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

const refresh = (refresh_token: string) => ctx.request('POST', '/login/refresh', { json: { refresh_token } })
const me = (token: string) => ctx.request('GET', '/users/me', { token })
const INVALID_REFRESH = { detail: 'Invalid refresh token', code: 'invalid_refresh_token' }

/** Logs a new user in through the API. */
async function loggedIn() {
  const user = await ctx.createUser()
  const res = await ctx.login(user.email, user.password)
  expect(res.status).toBe(200)
  return { user, tokens: res.body as { access_token: string; refresh_token: string } }
}

describe('POST /login/refresh', () => {
  test('swaps the refresh token for a new pair in the same session; the new one works', async () => {
    const { user, tokens } = await loggedIn()
    const next = await refresh(tokens.refresh_token)
    expect(next.status).toBe(200)
    expect(next.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
    })
    expect(next.body.refresh_token).not.toBe(tokens.refresh_token)
    expect(next.body.access_token).not.toBe(tokens.access_token)
    expect((await me(next.body.access_token)).body.id).toBe(user.id)
    const third = await refresh(next.body.refresh_token)
    expect(third.status).toBe(200)
    // One session, three tokens issued, one current.
    const rows = await ctx.sql`select family, rotated_at is null as current from sessions where user_id = ${user.id}`
    expect(new Set(rows.map((row) => row.family)).size).toBe(1)
    expect(rows.filter((row) => row.current)).toHaveLength(1)
  })

  test('a token used twice ends the whole session: the newest pair dies with it', async () => {
    const { tokens } = await loggedIn()
    const next = await refresh(tokens.refresh_token)
    expect(next.status).toBe(200)
    const replay = await refresh(tokens.refresh_token)
    expect(replay.status).toBe(401)
    expect(replay.body).toEqual(INVALID_REFRESH)
    expect(replay.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    expect((await refresh(next.body.refresh_token)).status).toBe(401)
    expect((await me(next.body.access_token)).status).toBe(401)
    expect((await me(tokens.access_token)).status).toBe(401)
  })

  test('two concurrent uses of one token: one new pair and one 401, never two sessions', async () => {
    for (let round = 0; round < 5; round++) {
      const { user, tokens } = await loggedIn()
      const results = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token)])
      expect(results.map((r) => r.status).sort()).toEqual([200, 401])
      const current = await ctx.sql`select 1 from sessions where user_id = ${user.id} and rotated_at is null`
      expect(current).toHaveLength(1)
    }
  })

  test('an expired, revoked, unknown or malformed refresh token is 401; an empty one 422', async () => {
    const { user, tokens } = await loggedIn()
    await ctx.sql`update sessions set expires_at = now() - interval '1 second' where user_id = ${user.id}`
    expect((await refresh(tokens.refresh_token)).body).toEqual(INVALID_REFRESH)

    const revoked = await loggedIn()
    expect((await ctx.request('POST', '/logout', { token: revoked.tokens.access_token })).status).toBe(200)
    expect((await refresh(revoked.tokens.refresh_token)).status).toBe(401)

    const inactive = await loggedIn()
    await ctx.sql`update users set is_active = false where id = ${inactive.user.id}`
    expect((await refresh(inactive.tokens.refresh_token)).status).toBe(401)

    for (const token of ['x', 'A'.repeat(43), '💥'.repeat(20)]) expect((await refresh(token)).status).toBe(401)
    expect((await refresh('')).status).toBe(422)
  })
})

describe('logout and sessions', () => {
  test('POST /logout ends the caller’s session only', async () => {
    const { user, tokens } = await loggedIn()
    const other = await ctx.login(user.email, user.password)
    expect((await ctx.request('POST', '/logout', { token: tokens.access_token })).body).toEqual({ ok: true })
    expect((await me(tokens.access_token)).status).toBe(401)
    expect((await me(other.body.access_token)).status).toBe(200)
    expect((await ctx.request('POST', '/logout', { token: tokens.access_token })).status).toBe(401)
  })

  test('GET /users/me/sessions lists live sessions, marks the current one, and never shows a token or hash', async () => {
    const { user, tokens } = await loggedIn()
    const second = await ctx.login(user.email, user.password, { headers: { 'user-agent': 'phone' } })
    const ended = await ctx.login(user.email, user.password)
    await ctx.request('POST', '/logout', { token: ended.body.access_token })
    const res = await ctx.request('GET', '/users/me/sessions', { token: tokens.access_token })
    expect(res.status).toBe(200)
    expect(res.body).toHaveLength(2)
    for (const session of res.body)
      expect(Object.keys(session).sort()).toEqual([
        'client_address',
        'created_at',
        'current',
        'expires_at',
        'id',
        'last_used_at',
        'user_agent',
      ])
    expect(res.body.filter((s: { current: boolean }) => s.current)).toHaveLength(1)
    expect(res.body.map((s: { user_agent: string | null }) => s.user_agent)).toContain('phone')
    for (const secret of [tokens.access_token, tokens.refresh_token, second.body.refresh_token])
      expect(res.text).not.toContain(secret)
    const hashes =
      await ctx.sql`select encode(token_hash, 'hex') as hex, encode(token_hash, 'base64') as b64 from sessions where user_id = ${user.id}`
    for (const { hex, b64 } of hashes) {
      expect(res.text).not.toContain(hex)
      expect(res.text).not.toContain(b64)
    }
  })

  test('DELETE /users/me/sessions/{id} ends one session at once; another user’s or an unknown one is 404', async () => {
    const { user, tokens } = await loggedIn()
    const phone = await ctx.login(user.email, user.password)
    const listed = await ctx.request('GET', '/users/me/sessions', { token: tokens.access_token })
    const phoneSession = listed.body.find((s: { current: boolean }) => !s.current)
    const res = await ctx.request('DELETE', `/users/me/sessions/${phoneSession.id}`, { token: tokens.access_token })
    expect(res.status).toBe(200)
    expect((await me(phone.body.access_token)).status).toBe(401)
    expect((await refresh(phone.body.refresh_token)).status).toBe(401)
    expect((await me(tokens.access_token)).status).toBe(200)

    const again = await ctx.request('DELETE', `/users/me/sessions/${phoneSession.id}`, { token: tokens.access_token })
    expect(again.status).toBe(404)
    expect(again.body).toEqual({ detail: 'Session not found', code: 'session_not_found' })
    const stranger = await ctx.account()
    const foreign = await ctx.request('DELETE', `/users/me/sessions/${stranger.sessionId}`, {
      token: tokens.access_token,
    })
    expect(foreign.status).toBe(404)
    expect((await me(stranger.token)).status).toBe(200)
    const malformed = await ctx.request('DELETE', '/users/me/sessions/not-a-uuid', { token: tokens.access_token })
    expect(malformed.status).toBe(422)
  })

  test('a superuser ends all of a user’s sessions; an unknown user is 404', async () => {
    const { user, tokens } = await loggedIn()
    const second = await ctx.login(user.email, user.password)
    const su = await ctx.account({ superuser: true })
    const res = await ctx.request('DELETE', `/users/${user.id}/sessions`, { token: su.token })
    expect(res.status).toBe(200)
    for (const token of [tokens.access_token, second.body.access_token]) expect((await me(token)).status).toBe(401)
    expect((await refresh(second.body.refresh_token)).status).toBe(401)
    expect((await ctx.login(user.email, user.password)).status).toBe(200)
    const unknown = await ctx.request('DELETE', '/users/9223372036854775807/sessions', { token: su.token })
    expect(unknown.status).toBe(404)
  })
})
