// Logging in with the OAuth2 password form: what a success gives, that every failure looks the same
// (status, body and time), and the throttle on failed logins, counted in PostgreSQL.
import { afterAll, describe, expect, test } from 'bun:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { UnavailableError } from '../../src/errors'
import { createTestContext, DEFAULT_PASSWORD, uniqueAddress, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

const INCORRECT = { detail: 'Incorrect email or password', code: 'incorrect_credentials' }

describe('POST /login/access-token', () => {
  test('the OAuth2 form gives a bearer token pair; the access token is an at+jwt naming the user and session', async () => {
    const user = await ctx.createUser({ email: uniqueEmail('Login') })
    const res = await ctx.request('POST', '/login/access-token', {
      form: { grant_type: 'password', username: ` ${user.email.toUpperCase()} `, password: user.password, scope: '' },
      headers: { 'user-agent': 'login-test/1.0' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
    })
    const header = decodeProtectedHeader(res.body.access_token)
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: expect.any(String) })
    const claims = decodeJwt(res.body.access_token)
    expect(claims).toEqual({
      iss: ctx.config.auth.issuer,
      aud: ctx.config.auth.audience,
      sub: String(user.id),
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: expect.any(Number),
      exp: claims.iat! + 900,
      jti: expect.any(String),
    })
    // The session as stored: only the refresh token's hash, where it came from.
    const [session] = await ctx.sql`
      select id, token_hash, user_agent, client_address,
        extract(epoch from expires_at - created_at)::int as lifetime_seconds
      from sessions where user_id = ${user.id}`
    expect(session).toMatchObject({ id: claims.sid, user_agent: 'login-test/1.0', client_address: ctx.peer })
    expect(session!.lifetime_seconds).toBe(30 * 86400)
    expect(Buffer.from(session!.token_hash).toString()).not.toContain(res.body.refresh_token)
    const me = await ctx.request('GET', '/users/me', { token: res.body.access_token })
    expect(me.body.id).toBe(user.id)
  })

  test('an unknown email, a wrong password and an inactive account all get the same 400', async () => {
    const user = await ctx.createUser()
    const inactive = await ctx.createUser({ active: false })
    for (const [email, password] of [
      [uniqueEmail('nobody'), DEFAULT_PASSWORD],
      [user.email, 'not the password'],
      [inactive.email, inactive.password],
      ['not an email at all', DEFAULT_PASSWORD],
    ] as const) {
      const res = await ctx.login(email, password, { peer: uniqueAddress() })
      expect({ email, status: res.status, body: res.body }).toEqual({ email, status: 400, body: INCORRECT })
    }
    expect(await ctx.sql`select 1 from sessions where user_id in ${ctx.sql([user.id, inactive.id])}`).toHaveLength(0)
  })

  test('token answers are never cached (Cache-Control: no-store), from the login and the refresh', async () => {
    const user = await ctx.createUser()
    const login = await ctx.login(user.email, user.password)
    expect(login.headers.get('cache-control')).toBe('no-store')
    const refreshed = await ctx.request('POST', '/login/refresh', { json: { refresh_token: login.body.refresh_token } })
    expect(refreshed.status).toBe(200)
    expect(refreshed.headers.get('cache-control')).toBe('no-store')
  })

  test('a hash made with other parameters than the configured ones is replaced at the next login', async () => {
    const user = await ctx.createUser()
    const old = await Bun.password.hash(user.password, { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 3 })
    await ctx.sql`update users set hashed_password = ${old} where id = ${user.id}`
    const login = await ctx.login(user.email, user.password)
    expect(login.status).toBe(200)
    expect((await ctx.request('GET', '/users/me', { token: login.body.access_token })).status).toBe(200)
    const [row] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    expect(row!.hashed_password).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
    expect(await Bun.password.verify(user.password, row!.hashed_password)).toBe(true)
    // Two logins at once, both checked against the old hash: each gets a session (one rehashes).
    const other = await ctx.createUser()
    for (let round = 0; round < 3; round++) {
      const again = await Bun.password.hash(other.password, { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 3 })
      await ctx.sql`update users set hashed_password = ${again} where id = ${other.id}`
      const both = await Promise.all([ctx.login(other.email, other.password), ctx.login(other.email, other.password)])
      expect(both.map((res) => res.status)).toEqual([200, 200])
    }
    // A current hash is left as it is.
    expect((await ctx.login(user.email, user.password)).status).toBe(200)
    expect((await ctx.sql`select hashed_password from users where id = ${user.id}`)[0]!.hashed_password).toBe(
      row!.hashed_password,
    )
  })

  test('the form is required: JSON is 415, missing fields or another grant_type are 422', async () => {
    const json = await ctx.request('POST', '/login/access-token', { json: { username: 'a@b.co', password: 'x' } })
    expect(json.status).toBe(415)
    expect(json.body).toEqual({
      detail: 'Content-Type must be application/x-www-form-urlencoded',
      code: 'unsupported_media_type',
    })
    // With a trailing slash too: it is the same route.
    const slash = await ctx.request('POST', '/login/access-token/', { json: { username: 'a@b.co', password: 'x' } })
    expect(slash.status).toBe(415)
    const user = await ctx.createUser()
    const form = { username: user.email, password: user.password }
    expect((await ctx.request('POST', '/login/access-token/', { form })).status).toBe(200)
    const missing = await ctx.request('POST', '/login/access-token', { form: {} })
    expect(missing.status).toBe(422)
    expect(missing.body.detail.map((d: { loc: string[] }) => d.loc[1])).toEqual(['username', 'password'])
    const grant = await ctx.request('POST', '/login/access-token', {
      form: { grant_type: 'client_credentials', username: 'a@b.co', password: 'x' },
    })
    expect(grant.status).toBe(422)
    expect(grant.body.detail[0].loc).toEqual(['body', 'grant_type'])
  })

  test('a failed login takes as long for an unknown email as for a wrong password (medians within 25%)', async () => {
    // 20 tries each, interleaved, each from an address of its own, so the throttle never answers.
    const users = await Promise.all(Array.from({ length: 4 }, () => ctx.createUser()))
    const timed = async (email: string) => {
      const started = performance.now()
      const res = await ctx.login(email, 'not the password', { peer: uniqueAddress() })
      expect(res.status).toBe(400)
      return performance.now() - started
    }
    const unknown: number[] = []
    const wrong: number[] = []
    await timed(users[0]!.email) // warm-up
    for (let i = 0; i < 20; i++) {
      unknown.push(await timed(uniqueEmail('ghost')))
      wrong.push(await timed(users[i % users.length]!.email))
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const ratio = median(unknown) / median(wrong)
    expect(ratio).toBeGreaterThan(0.75)
    expect(ratio).toBeLessThan(1.25)
  })
})

describe('throttling failed logins', () => {
  const failures = (email: string, peer: string, count: number) =>
    Promise.all(Array.from({ length: count }, () => ctx.login(email, 'wrong password', { peer })))

  test('the 6th failed login for one email from one address within 15 minutes is 429, the right password too', async () => {
    const user = await ctx.createUser()
    const peer = uniqueAddress()
    for (let i = 0; i < 5; i++) expect((await ctx.login(user.email, 'wrong password', { peer })).status).toBe(400)
    const blocked = await ctx.login(user.email, user.password, { peer })
    expect(blocked.status).toBe(429)
    expect(blocked.body).toEqual({ detail: 'Too many failed logins, try again later', code: 'rate_limited' })
    // Until the oldest of the five leaves the window: just under 15 minutes from now.
    const retry = Number(blocked.headers.get('retry-after'))
    expect(retry).toBeGreaterThan(890)
    expect(retry).toBeLessThanOrEqual(900)

    // From another address the same account logs in: nobody can lock a user out from elsewhere.
    expect((await ctx.login(user.email, user.password, { peer: uniqueAddress() })).status).toBe(200)
    // Another email from the blocked address is not blocked either.
    const other = await ctx.createUser()
    expect((await ctx.login(other.email, other.password, { peer })).status).toBe(200)
  })

  test('Retry-After counts down to when the oldest failure leaves the window; then logins work again', async () => {
    const user = await ctx.createUser()
    const peer = uniqueAddress()
    await failures(user.email, peer, 5)
    await ctx.sql`update login_attempts set attempted_at = attempted_at - interval '10 minutes' where client_address = ${peer}`
    const blocked = await ctx.login(user.email, user.password, { peer })
    expect(blocked.status).toBe(429)
    const retry = Number(blocked.headers.get('retry-after'))
    expect(retry).toBeGreaterThan(290)
    expect(retry).toBeLessThanOrEqual(300)
    await ctx.sql`update login_attempts set attempted_at = attempted_at - interval '5 minutes' where client_address = ${peer}`
    expect((await ctx.login(user.email, user.password, { peer })).status).toBe(200)
    // The login pruned the address's expired attempts.
    expect(await ctx.sql`select 1 from login_attempts where client_address = ${peer}`).toHaveLength(0)
  })

  test('five failures sent at once cannot slip past the limit: the 6th is 429', async () => {
    const user = await ctx.createUser()
    const peer = uniqueAddress()
    const statuses = (await failures(user.email, peer, 8)).map((r) => r.status).sort()
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429])
    expect((await ctx.login(user.email, user.password, { peer })).status).toBe(429)
    const [{ count }] = await ctx.sql<[{ count: number }]>`
      select count(*)::int as count from login_attempts where client_address = ${peer}`
    expect(count).toBe(5)
  })

  test('a login the service could not finish (hashing busy: 503) is not a failed login', async () => {
    const busy = createTestContext({
      passwords: () => ({
        hash: () => Promise.reject(new Error('not used')),
        needsRehash: () => false,
        verify: () =>
          Promise.reject(new UnavailableError('hashing_busy', 'Too many sign-ups or logins at once, try again')),
      }),
    })
    try {
      const user = await busy.createUser()
      const peer = uniqueAddress()
      for (let i = 0; i < 6; i++) expect((await busy.login(user.email, user.password, { peer })).status).toBe(503)
      expect(await busy.sql`select 1 from login_attempts where client_address = ${peer}`).toHaveLength(0)
      expect((await ctx.login(user.email, user.password, { peer })).status).toBe(200)
    } finally {
      await busy.cleanup()
    }
  })

  test('a wrong current password counts like a failed login: a stolen token cannot be used to guess the password', async () => {
    const owner = await ctx.account()
    const peer = uniqueAddress()
    const change = (current_password: string) =>
      ctx.request('PATCH', '/users/me/password', {
        token: owner.token,
        peer,
        json: { current_password, new_password: 'a guessed new password' },
      })
    for (let i = 0; i < 5; i++) expect((await change(`guess ${i}`)).status).toBe(400)
    const blocked = await change(owner.password)
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(890)
    const email = await ctx.request('PATCH', '/users/me', {
      token: owner.token,
      peer,
      json: { email: uniqueEmail('moved'), current_password: owner.password },
    })
    expect(email.status).toBe(429)
    expect((await ctx.login(owner.email, owner.password, { peer })).status).toBe(429)
    const [row] = await ctx.sql`select email, hashed_password from users where id = ${owner.id}`
    expect(row!.email).toBe(owner.email)
    expect(await Bun.password.verify(owner.password, row!.hashed_password)).toBe(true)
    // The owner, from elsewhere, is not locked out; a right password does not count.
    const elsewhere = await ctx.request('PATCH', '/users/me/password', {
      token: owner.token,
      json: { current_password: owner.password, new_password: 'the owner’s new password' },
    })
    expect(elsewhere.status).toBe(200)
    expect(await ctx.sql`select 1 from login_attempts where client_address = ${ctx.peer}`).toHaveLength(0)
  })

  test('unknown emails count like known ones', async () => {
    const email = uniqueEmail('ghost')
    const peer = uniqueAddress()
    await failures(email, peer, 5)
    const blocked = await ctx.login(email, 'anything at all', { peer })
    expect(blocked.status).toBe(429)
  })

  test('one address gets 100 failures in 15 minutes, across all emails', async () => {
    const peer = uniqueAddress()
    await ctx.sql`
      insert into login_attempts (client_address, email)
      select ${peer}, 'spray-' || g || '@example.com' from generate_series(1, 99) g`
    expect((await ctx.login(uniqueEmail('spray'), 'wrong', { peer })).status).toBe(400)
    const user = await ctx.createUser()
    const blocked = await ctx.login(user.email, user.password, { peer })
    expect(blocked.status).toBe(429)
    expect((await ctx.login(user.email, user.password, { peer: uniqueAddress() })).status).toBe(200)
  })

  test('an IPv6 client counts as its /64: walking through its addresses does not escape the limit', async () => {
    const user = await ctx.createUser()
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`
    const statuses: number[] = []
    for (let i = 1; i <= 6; i++)
      statuses.push((await ctx.login(user.email, 'wrong', { peer: `${prefix}::${i}` })).status)
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429])
    // Another /64 is another client.
    expect((await ctx.login(user.email, user.password, { peer: `${prefix.slice(0, -1)}2::1` })).status).toBe(200)
    await ctx.sql`delete from login_attempts where client_address = ${`${prefix}::/64`}`
  })

  test('X-Forwarded-For names the client only when the socket is a trusted proxy (an address or a range, any spelling)', async () => {
    const proxy = uniqueAddress()
    const behind = createTestContext({ env: { TRUSTED_PROXIES: `${proxy}, 192.0.2.0/24, 2001:DB8:FFFF::1` } })
    try {
      const user = await behind.createUser()
      const client = uniqueAddress()
      // Through two of ours (192.0.2.1 is in a trusted range): the entry before them is the client.
      const viaProxy = { peer: proxy, headers: { 'x-forwarded-for': `203.0.113.9, ${client}, 192.0.2.1` } }
      for (let i = 0; i < 5; i++) await behind.login(user.email, 'wrong', viaProxy)
      expect((await behind.login(user.email, user.password, viaProxy)).status).toBe(429)
      const counted =
        await behind.sql`select distinct client_address from login_attempts where email = ${user.email.toLowerCase()}`
      expect(counted.map((row) => row.client_address)).toEqual([client])

      // Anyone else's X-Forwarded-For is ignored: the socket is the client.
      const direct = uniqueAddress()
      const spoofed = { peer: direct, headers: { 'x-forwarded-for': client } }
      const res = await behind.login(user.email, user.password, spoofed)
      expect(res.status).toBe(200)
      const [session] = await behind.sql`select client_address from sessions where user_id = ${user.id}`
      expect(session!.client_address).toBe(direct)
      // A proxy written in another spelling is still the proxy; IPv4-mapped clients are plain IPv4.
      const other = await behind.createUser()
      const mapped = uniqueAddress()
      const viaIpv6Proxy = { peer: '2001:db8:ffff:0:0:0:0:1', headers: { 'x-forwarded-for': `::ffff:${mapped}` } }
      expect((await behind.login(other.email, other.password, viaIpv6Proxy)).status).toBe(200)
      const [viaV6] = await behind.sql`select client_address from sessions where user_id = ${other.id}`
      expect(viaV6!.client_address).toBe(mapped)
      await behind.sql`delete from login_attempts where client_address = ${client}`
    } finally {
      await behind.cleanup()
    }
  })
})
