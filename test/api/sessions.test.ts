// Sessions: refresh tokens rotate on every use, a replayed one ends the whole session, and a session
// ended any way (logout, revocation, expiry) stops its access tokens at once. Listing shows sessions,
// never tokens.
import { afterAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import postgres from 'postgres'
import { createDatabase } from '../../src/db/database'
import { createLoginAttemptsRepository } from '../../src/modules/login/repository'
import { createSessionsRepository } from '../../src/modules/sessions/repository'
import { createTestContext, databaseUrl, type TestResponse, uniqueAddress } from '../support/context'
import { serviceQueriesWaitingForLock } from '../support/locks'
import { waitFor } from '../support/wait'

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
    // One session; the two tokens it spent are kept (as hashes) to recognise a replay.
    const [session] = await ctx.sql`select id from sessions where user_id = ${user.id}`
    expect(await ctx.sql`select 1 from sessions where user_id = ${user.id}`).toHaveLength(1)
    const spent = await ctx.sql`select token_hash from spent_refresh_tokens where session_id = ${session!.id}`
    expect(spent).toHaveLength(2)
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

  /**
   * Runs `contenders` one after another into a queue on the session's row (held by a third party),
   * then lets them through in that order: what arriving together looks like, made certain.
   */
  async function queuedOnSession(sid: string, contenders: (() => Promise<TestResponse>)[]) {
    const admin = postgres(databaseUrl(), { max: 2, onnotice: () => {} })
    try {
      const locked = Promise.withResolvers<void>()
      const released = Promise.withResolvers<void>()
      const holding = admin.begin(async (tx) => {
        await tx`select 1 from sessions where id = ${sid} for update`
        locked.resolve()
        await released.promise
      })
      await locked.promise
      const answers: Promise<TestResponse>[] = []
      for (const contender of contenders) {
        answers.push(contender())
        const queued = answers.length
        await waitFor(
          `${queued} to wait on the session`,
          async () => (await serviceQueriesWaitingForLock(admin)) === queued,
        )
      }
      released.resolve()
      await holding
      return await Promise.all(answers)
    } finally {
      await admin.end()
    }
  }

  test('two concurrent uses of one token: one new pair and one 401; the second use is a replay, so the session ends', async () => {
    const { user, tokens } = await loggedIn()
    const { sid } = decodeJwt(tokens.access_token) as { sid: string }
    const [first, second] = await queuedOnSession(sid, [
      () => refresh(tokens.refresh_token),
      () => refresh(tokens.refresh_token),
    ])
    expect([first!.status, second!.status]).toEqual([200, 401])
    // Which use was the thief's cannot be told: "useless once either side uses it" ends the session.
    expect((await me(first!.body.access_token)).status).toBe(401)
    expect((await refresh(first!.body.refresh_token)).status).toBe(401)
    const [session] = await ctx.sql`select revoked_at from sessions where user_id = ${user.id}`
    expect(session!.revoked_at).toBeInstanceOf(Date)
  })

  test('a revocation queued behind a refresh is never missed: the pair the refresh issued dies with the session', async () => {
    const { tokens } = await loggedIn()
    const { sid } = decodeJwt(tokens.access_token) as { sid: string }
    const [refreshed, logout] = await queuedOnSession(sid, [
      () => refresh(tokens.refresh_token),
      () => ctx.request('POST', '/logout', { token: tokens.access_token }),
    ])
    expect(refreshed!.status).toBe(200)
    expect(logout!.status).toBe(200)
    expect((await me(refreshed!.body.access_token)).status).toBe(401)
    expect((await refresh(refreshed!.body.refresh_token)).status).toBe(401)
  })

  test('a refresh never extends the session: it ends REFRESH_TOKEN_EXPIRE_DAYS after the login', async () => {
    const { user, tokens } = await loggedIn()
    const [before] = await ctx.sql`select expires_at from sessions where user_id = ${user.id}`
    const next = await refresh(tokens.refresh_token)
    await refresh(next.body.refresh_token)
    const [after] =
      await ctx.sql`select expires_at, last_used_at > created_at as used from sessions where user_id = ${user.id}`
    expect(after!.expires_at).toEqual(before!.expires_at)
    expect(after!.used).toBe(true)
  })

  test('a thief refreshing in a loop loses the session when the owner changes the password', async () => {
    for (let round = 0; round < 5; round++) {
      const owner = await ctx.account()
      const stolen = await ctx.login(owner.email, owner.password)
      let current = stolen.body.refresh_token as string
      let stop = false
      let refreshes = 0
      const thief = (async () => {
        while (!stop) {
          const res = await refresh(current)
          if (res.status !== 200) return
          current = res.body.refresh_token
          refreshes++
        }
      })()
      await waitFor('the thief to be refreshing', () => refreshes >= 2)
      const changed = await ctx.request('PATCH', '/users/me/password', {
        token: owner.token,
        json: { current_password: owner.password, new_password: 'a fresh new password' },
      })
      expect(changed.status).toBe(200)
      stop = true
      await thief
      expect((await refresh(current)).status).toBe(401)
    }
  })

  test("the OAuth2 refresh form works too (what clients of the document's refreshUrl send); other grants are 422", async () => {
    const { user, tokens } = await loggedIn()
    const form = await ctx.request('POST', '/login/refresh', {
      form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
    })
    expect(form.status).toBe(200)
    expect((await me(form.body.access_token)).body.id).toBe(user.id)
    const wrongGrant = await ctx.request('POST', '/login/refresh', {
      form: { grant_type: 'password', refresh_token: form.body.refresh_token },
    })
    expect(wrongGrant.status).toBe(422)
    const text = await ctx.request('POST', '/login/refresh', {
      body: form.body.refresh_token,
      headers: { 'content-type': 'text/plain' },
    })
    expect(text.status).toBe(415)
    expect(text.body.detail).toBe('Content-Type must be application/json or application/x-www-form-urlencoded')
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

describe('housekeeping', () => {
  test('ended sessions (expired or revoked) are swept in batches with their spent tokens; live ones stay', async () => {
    const sessions = createSessionsRepository(createDatabase(ctx.sql, ctx.config.database), { lifetimeDays: 30 })
    const live = await loggedIn()
    const revoked = await loggedIn()
    const expired = await loggedIn()
    await refresh(revoked.tokens.refresh_token)
    await ctx.request('POST', '/logout', { token: revoked.tokens.access_token })
    await ctx.sql`update sessions set expires_at = now() - interval '1 second' where user_id = ${expired.user.id}`
    const ids = [live.user.id, revoked.user.id, expired.user.id]
    const sessionOf = async (userId: number) =>
      (await ctx.sql`select id from sessions where user_id = ${userId}`)[0]?.id
    const revokedSession = await sessionOf(revoked.user.id)
    expect(await ctx.sql`select 1 from spent_refresh_tokens where session_id = ${revokedSession}`).toHaveLength(1)

    expect(await sessions.pruneEnded(1)).toBe(1)
    while ((await sessions.pruneEnded(100)) > 0);
    const left = await ctx.sql`select user_id::int from sessions where user_id in ${ctx.sql(ids)}`
    expect(left.map((row) => row.user_id)).toEqual([live.user.id])
    expect(await ctx.sql`select 1 from spent_refresh_tokens where session_id = ${revokedSession}`).toHaveLength(0)
    expect((await me(live.tokens.access_token)).status).toBe(200)
  })

  test('login attempts every window has left are swept in batches', async () => {
    const attempts = createLoginAttemptsRepository(
      createDatabase(ctx.sql, ctx.config.database),
      ctx.config.auth.loginThrottle,
    )
    const peer = uniqueAddress()
    await ctx.sql`
      insert into login_attempts (client_address, email, attempted_at)
      select ${peer}, 'old-' || g || '@example.com', now() - interval '16 minutes' from generate_series(1, 3) g`
    await ctx.sql`insert into login_attempts (client_address, email) values (${peer}, 'recent@example.com')`
    expect(await attempts.pruneExpired(2)).toBe(2)
    while ((await attempts.pruneExpired(100)) > 0);
    const left = await ctx.sql`select email from login_attempts where client_address = ${peer}`
    expect(left.map((row) => row.email)).toEqual(['recent@example.com'])
    await ctx.sql`delete from login_attempts where client_address = ${peer}`
  })
})

describe('logout and sessions', () => {
  test('POST /logout ends the caller’s session only; a body sent with it is ignored, whatever it is', async () => {
    const { user, tokens } = await loggedIn()
    const other = await ctx.login(user.email, user.password)
    const logout = await ctx.request('POST', '/logout', {
      token: tokens.access_token,
      body: 'token=whatever&{not json',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(logout.body).toEqual({ ok: true })
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
