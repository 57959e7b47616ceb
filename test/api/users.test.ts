import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Account, createTestContext, DEFAULT_PASSWORD, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
let su: Account
beforeAll(async () => {
  su = await ctx.account({ superuser: true })
})

/** A user as the API answers it. */
const publicUser = (
  user: { id: number; email: string; is_superuser?: boolean },
  fields: Record<string, unknown> = {},
) => ({
  id: user.id,
  email: user.email,
  is_active: true,
  is_superuser: user.is_superuser ?? false,
  full_name: null,
  created_at: expect.stringMatching(isoDate),
  items_count: (fields.items as unknown[] | undefined)?.length ?? 0,
  items: [],
  ...fields,
})

const liveSessions = async (userId: number) =>
  (await ctx.sql`select id from sessions where user_id = ${userId} and revoked_at is null`).map((row) => row.id)

describe('POST /users/signup', () => {
  test('creates an ordinary account: 201, Location, the public fields, an argon2id hash in the table', async () => {
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/signup', {
      json: { email, password: DEFAULT_PASSWORD, full_name: 'Ada Lovelace' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toEqual(publicUser({ id: res.body.id, email }, { full_name: 'Ada Lovelace' }))
    expect(res.headers.get('location')).toBe(`/users/${res.body.id}`)
    expect(res.text).not.toContain('password')
    const [row] =
      await ctx.sql`select email, hashed_password, is_active, is_superuser from users where id = ${res.body.id}`
    expect(row).toMatchObject({ email, is_active: true, is_superuser: false })
    expect(row!.hashed_password).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
    expect(await Bun.password.verify(DEFAULT_PASSWORD, row!.hashed_password)).toBe(true)
  })

  // Look-alikes of another address: control (Cc), format (Cf: zero-width, joiners, bidi, BOM, tags) and space (Zs).
  test.each([
    '\u0001',
    '\u007f',
    '\u200b',
    '\u200d',
    '\u202e',
    '\u2066',
    '\ufeff',
    '\u{e0041}',
    '\u00a0',
    '\u3000',
    // Default-ignorable, in none of those categories: Hangul filler, combining grapheme joiner, variation selector.
    '\u3164',
    '\u034f',
    '\ufe0f',
  ])('an email with an invisible character (%#) is 422, in its local part or its domain', async (invisible) => {
    for (const email of [`ad${invisible}a@example.com`, `ada@exam${invisible}ple.com`]) {
      const res = await ctx.request('POST', '/users/signup', { json: { email, password: DEFAULT_PASSWORD } })
      expect(res.status).toBe(422)
      expect(res.body.detail.map((d: { loc: string[]; type: string }) => [d.loc[1], d.type])).toEqual([
        ['email', 'value_error'],
      ])
    }
  })

  test('letters of every script are valid: internationalised addresses are real (RFC 6531)', async () => {
    const tag = crypto.randomUUID()
    for (const email of [`δοκιμή-${tag}@παράδειγμα.δοκιμή`, `用户-${tag}@例子.广告`, `josé-${tag}@exämple.com`]) {
      const res = await ctx.request('POST', '/users/signup', { json: { email, password: DEFAULT_PASSWORD } })
      expect(res.status).toBe(201)
      expect(res.body.email).toBe(email)
    }
  })

  test('can never make a superuser or an inactive account, nor set ids or hashes: those fields are ignored', async () => {
    const res = await ctx.request('POST', '/users/signup', {
      json: {
        email: uniqueEmail(),
        password: DEFAULT_PASSWORD,
        id: 424242,
        hashed_password: 'x',
        is_active: false,
        is_superuser: true,
        created_at: '2000-01-01T00:00:00Z',
      },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ is_active: true, is_superuser: false })
    expect(res.body.id).not.toBe(424242)
    expect(res.body.created_at).not.toStartWith('2000')
    const [row] = await ctx.sql`select hashed_password, is_superuser, is_active from users where id = ${res.body.id}`
    expect(row).toMatchObject({ is_superuser: false, is_active: true })
    expect(row!.hashed_password).toStartWith('$argon2id$')
  })

  test('a registered email, in any letter case, is 409 Email already registered and writes nothing', async () => {
    const email = uniqueEmail('Dup')
    await ctx.createUser({ email })
    const res = await ctx.request('POST', '/users/signup', {
      json: { email: email.toUpperCase(), password: 'another password' },
    })
    expect(res.status).toBe(409)
    expect(res.body).toEqual({ detail: 'Email already registered', code: 'email_taken' })
    const [{ count }] = await ctx.sql<[{ count: number }]>`
      select count(*)::int as count from users where lower(email) = lower(${email})`
    expect(count).toBe(1)
  })

  test('letter case is ignored beyond ASCII too', async () => {
    const local = `ünï-${crypto.randomUUID()}`
    await ctx.createUser({ email: `${local}@exämple.com` })
    const res = await ctx.request('POST', '/users/signup', {
      json: { email: `${local.toUpperCase()}@EXÄMPLE.COM`, password: DEFAULT_PASSWORD },
    })
    expect(res.status).toBe(409)
  })

  test('emails are trimmed and NFC-normalised before they are stored and compared', async () => {
    const local = `jose-${crypto.randomUUID()}`
    const nfd = `  ${local}\u0301@example.com `.normalize('NFD')
    const res = await ctx.request('POST', '/users/signup', { json: { email: nfd, password: DEFAULT_PASSWORD } })
    expect(res.status).toBe(201)
    expect(res.body.email).toBe(`${local}\u0301@example.com`.normalize('NFC'))
    const again = await ctx.request('POST', '/users/signup', {
      json: { email: `${local}\u0301@example.com`.normalize('NFC'), password: DEFAULT_PASSWORD },
    })
    expect(again.status).toBe(409)
  })

  test('with USERS_OPEN_REGISTRATION=false it is 403 and writes nothing', async () => {
    const closed = createTestContext({ env: { USERS_OPEN_REGISTRATION: 'false' } })
    try {
      const email = uniqueEmail()
      const res = await closed.request('POST', '/users/signup', { json: { email, password: DEFAULT_PASSWORD } })
      expect(res.status).toBe(403)
      expect(res.body).toEqual({
        detail: 'Open user registration is forbidden on this server',
        code: 'registration_closed',
      })
      expect(await ctx.sql`select id from users where email = ${email}`).toHaveLength(0)
    } finally {
      await closed.cleanup()
    }
  })

  test.each([
    [
      {},
      [
        ['email', 'missing'],
        ['password', 'missing'],
      ],
    ],
    [{ email: 'not-an-email', password: DEFAULT_PASSWORD }, [['email', 'value_error']]],
    [{ email: 'a@b', password: DEFAULT_PASSWORD }, [['email', 'value_error']]],
    [{ email: `${'a'.repeat(250)}@example.com`, password: DEFAULT_PASSWORD }, [['email', 'string_too_long']]],
    [{ email: 'a@b.co', password: 'short' }, [['password', 'string_too_short']]],
    [{ email: 'a@b.co', password: 'p'.repeat(129) }, [['password', 'string_too_long']]],
    [{ email: 'a@b.co', password: 'nul\u0000byte-password' }, [['password', 'string_pattern_mismatch']]],
    [{ email: 'a\u0000b@example.com', password: DEFAULT_PASSWORD }, [['email', 'value_error']]],
    [{ email: 'a\ud800b@example.com', password: DEFAULT_PASSWORD }, [['email', 'value_error']]],
    [{ email: 'a@b.co', password: 'lone \udc00 surrogate' }, [['password', 'string_pattern_mismatch']]],
    [{ email: 'a@b.co', password: DEFAULT_PASSWORD, full_name: 'x'.repeat(256) }, [['full_name', 'string_too_long']]],
    [
      { email: 42, password: 12345678 },
      [
        ['email', 'string_type'],
        ['password', 'string_type'],
      ],
    ],
    [{ email: null, password: DEFAULT_PASSWORD }, [['email', 'string_type']]],
  ])('invalid body, case %#: 422 naming each field, never echoing values', async (json, expected) => {
    const res = await ctx.request('POST', '/users/signup', { json })
    expect(res.status).toBe(422)
    expect(Object.keys(res.body).sort()).toEqual(['code', 'detail'])
    expect(res.body.code).toBe('validation_failed')
    expect(res.body.detail.map((d: any) => [d.loc[1], d.type])).toEqual(expected)
    for (const item of res.body.detail) {
      expect(item.loc[0]).toBe('body')
      expect(item.msg).toBeString()
      expect(Object.keys(item).sort()).toEqual(['loc', 'msg', 'type'])
    }
    expect(res.text).not.toContain(DEFAULT_PASSWORD)
    expect(res.text).not.toContain('"short"')
  })

  test('a field nested thousands of levels deep is a 422 at ["body"], not a stack overflow', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const res = await ctx.request('POST', '/users/signup', {
      body: `{"email":"a@b.co","password":${deep}}`,
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body'], msg: expect.any(String), type: 'value_error' }])
  })

  test.each([['a@b.co', 'password123'], 'a@b.co', 5, null, true])(
    'a body that is not an object (%j) is 422 at ["body"]',
    async (json) => {
      const res = await ctx.request('POST', '/users/signup', { json })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({
        detail: [{ loc: ['body'], msg: expect.any(String), type: 'model_attributes_type' }],
        code: 'validation_failed',
      })
    },
  )
})

describe('POST /users/ (superusers)', () => {
  test('a superuser creates any account, superusers and inactive ones included', async () => {
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/', {
      token: su.token,
      json: { email, password: DEFAULT_PASSWORD, is_superuser: true, is_active: false, full_name: 'Root Two' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toEqual(
      publicUser({ id: res.body.id, email }, { is_superuser: true, is_active: false, full_name: 'Root Two' }),
    )
    expect(res.headers.get('location')).toBe(`/users/${res.body.id}`)
    const [row] = await ctx.sql`select is_superuser, is_active, hashed_password from users where id = ${res.body.id}`
    expect(row).toMatchObject({ is_superuser: true, is_active: false })
    expect(await Bun.password.verify(DEFAULT_PASSWORD, row!.hashed_password)).toBe(true)
  })

  test('defaults: active, not a superuser; a taken email is 409', async () => {
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/', { token: su.token, json: { email, password: DEFAULT_PASSWORD } })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ is_active: true, is_superuser: false })
    const again = await ctx.request('POST', '/users/', {
      token: su.token,
      json: { email: email.toUpperCase(), password: DEFAULT_PASSWORD },
    })
    expect(again.status).toBe(409)
  })

  test('anyone else is 403, and nothing is written', async () => {
    const user = await ctx.account()
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/', { token: user.token, json: { email, password: DEFAULT_PASSWORD } })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ detail: "The user doesn't have enough privileges", code: 'forbidden' })
    expect(await ctx.sql`select id from users where email = ${email}`).toHaveLength(0)
  })
})

describe('GET /users/ (superusers)', () => {
  test('lists users by id with X-Total-Count; others are 403', async () => {
    const res = await ctx.request('GET', '/users/?limit=100', { token: su.token })
    expect(res.status).toBe(200)
    const [{ count }] = await ctx.sql<[{ count: number }]>`select count(*)::int as count from users`
    expect(res.headers.get('x-total-count')).toBe(String(count))
    const ids = res.body.map((user: { id: number }) => user.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(res.text).not.toContain('hashed_password')

    const user = await ctx.account()
    const refused = await ctx.request('GET', '/users/', { token: user.token })
    expect(refused.status).toBe(403)
  })

  test.each([
    ['limit=0', 'limit', 'greater_than_equal'],
    ['limit=101', 'limit', 'less_than_equal'],
    ['limit=abc', 'limit', 'int_parsing'],
    ['limit=1e2', 'limit', 'int_parsing'],
    ['offset=-1', 'offset', 'greater_than_equal'],
    ['offset=1.5', 'offset', 'int_parsing'],
    ['skip=0x10', 'skip', 'int_parsing'],
    ['offset=99999999999999999999', 'offset', 'less_than_equal'],
  ])('%s is 422 at ["query", ...]', async (query, field, type) => {
    const res = await ctx.request('GET', `/users/?${query}`, { token: su.token })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['query', field], msg: expect.any(String), type }])
  })
})

describe('GET /users/{user_id}', () => {
  test('yourself, with your items', async () => {
    const user = await ctx.account()
    const item = await ctx.request('POST', '/items/', {
      token: user.token,
      json: { title: 'Mine', description: 'one' },
    })
    const res = await ctx.request('GET', `/users/${user.id}`, { token: user.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(publicUser(user, { items: [item.body] }))
  })

  test("another user's is 403, whether it exists or not; a superuser reads anyone", async () => {
    const user = await ctx.account()
    const other = await ctx.createUser()
    for (const id of [other.id, 9223372036854775807n]) {
      const res = await ctx.request('GET', `/users/${id}`, { token: user.token })
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('forbidden')
    }
    const res = await ctx.request('GET', `/users/${other.id}`, { token: su.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(publicUser(other))
  })

  test('an unknown id is 404 User not found, for a superuser', async () => {
    const res = await ctx.request('GET', '/users/9223372036854775807', { token: su.token })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
  })

  test.each([
    ['1e3', 'int_parsing'],
    ['0x10', 'int_parsing'],
    ['1.5', 'int_parsing'],
    ['%20', 'int_parsing'],
    ['01', 'int_parsing'],
    ['abc', 'int_parsing'],
    ['-1', 'greater_than_equal'],
    ['0', 'greater_than_equal'],
    ['9223372036854775808', 'less_than_equal'],
    ['99999999999999999999', 'less_than_equal'],
  ])('path id %s is 422 and never reaches the database', async (id, type) => {
    const res = await ctx.request('GET', `/users/${id}`, { token: su.token })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['path', 'user_id'], msg: expect.any(String), type }])
  })
})

describe('the caller’s own account', () => {
  test('GET /users/me is the caller', async () => {
    const user = await ctx.account({ fullName: 'Me Myself' })
    const res = await ctx.request('GET', '/users/me', { token: user.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(publicUser(user, { full_name: 'Me Myself' }))
  })

  test('PATCH /users/me changes the name (null clears it); nothing else can be set there', async () => {
    const user = await ctx.account({ fullName: 'Old Name' })
    const renamed = await ctx.request('PATCH', '/users/me', {
      token: user.token,
      json: { full_name: 'New Name', is_superuser: true, is_active: false },
    })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toEqual(publicUser(user, { full_name: 'New Name' }))
    const cleared = await ctx.request('PATCH', '/users/me', { token: user.token, json: { full_name: null } })
    expect(cleared.body.full_name).toBeNull()
    const [row] = await ctx.sql`select is_superuser, is_active from users where id = ${user.id}`
    expect(row).toEqual({ is_superuser: false, is_active: true })
  })

  test('PATCH /users/me: a new email needs the current password (400 when wrong, 422 when absent)', async () => {
    const user = await ctx.account()
    const email = uniqueEmail('moved')
    const missing = await ctx.request('PATCH', '/users/me', { token: user.token, json: { email } })
    expect(missing.status).toBe(422)
    expect(missing.body.detail).toEqual([
      { loc: ['body', 'current_password'], msg: expect.any(String), type: 'missing' },
    ])
    const wrong = await ctx.request('PATCH', '/users/me', {
      token: user.token,
      json: { email, current_password: 'not the password' },
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toEqual({ detail: 'Incorrect password', code: 'incorrect_password' })
    expect((await ctx.sql`select email from users where id = ${user.id}`)[0]!.email).toBe(user.email)

    const moved = await ctx.request('PATCH', '/users/me', {
      token: user.token,
      json: { email, current_password: user.password },
    })
    expect(moved.status).toBe(200)
    expect(moved.body.email).toBe(email)
    const taken = await ctx.request('PATCH', '/users/me', {
      token: user.token,
      json: { email: su.email.toUpperCase(), current_password: user.password },
    })
    expect(taken.status).toBe(409)
  })

  test('PATCH /users/me/password: wrong current 400, same as current 400; a change ends every other session', async () => {
    const user = await ctx.account()
    const other = await ctx.signIn(user)
    const wrong = await ctx.request('PATCH', '/users/me/password', {
      token: user.token,
      json: { current_password: 'not the password', new_password: 'a brand new secret' },
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toEqual({ detail: 'Incorrect password', code: 'incorrect_password' })
    const same = await ctx.request('PATCH', '/users/me/password', {
      token: user.token,
      json: { current_password: user.password, new_password: user.password },
    })
    expect(same.status).toBe(400)
    expect(same.body.code).toBe('password_unchanged')

    const changed = await ctx.request('PATCH', '/users/me/password', {
      token: user.token,
      json: { current_password: user.password, new_password: 'a brand new secret' },
    })
    expect(changed.status).toBe(200)
    expect(changed.text).not.toContain('secret')
    expect(await liveSessions(user.id)).toEqual([user.sessionId])
    expect((await ctx.request('GET', '/users/me', { token: other.token })).status).toBe(401)
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(200)
    const [row] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    expect(await Bun.password.verify('a brand new secret', row!.hashed_password)).toBe(true)
    expect((await ctx.login(user.email, 'a brand new secret')).status).toBe(200)
  })

  test('DELETE /users/me deletes the account with its items and sessions; a superuser may not', async () => {
    const user = await ctx.account()
    await ctx.request('POST', '/items/', { token: user.token, json: { title: 'doomed' } })
    const res = await ctx.request('DELETE', '/users/me', { token: user.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(await ctx.sql`select id from users where id = ${user.id}`).toHaveLength(0)
    expect(await ctx.sql`select id from items where owner_id = ${user.id}`).toHaveLength(0)
    expect(await ctx.sql`select id from sessions where user_id = ${user.id}`).toHaveLength(0)
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(401)

    const refused = await ctx.request('DELETE', '/users/me', { token: su.token })
    expect(refused.status).toBe(403)
    expect(refused.body).toEqual({
      detail: 'Super users are not allowed to delete themselves',
      code: 'cannot_delete_self',
    })
    expect(await ctx.sql`select id from users where id = ${su.id}`).toHaveLength(1)
  })
})

describe('PATCH /users/{user_id} (superusers)', () => {
  test('changes only the fields sent; a new password is hashed and ends the user’s sessions', async () => {
    const user = await ctx.account()
    const [before] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    const res = await ctx.request('PATCH', `/users/${user.id}`, { token: su.token, json: { full_name: 'Named' } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(publicUser(user, { full_name: 'Named' }))
    expect(await liveSessions(user.id)).toHaveLength(1)

    const email = uniqueEmail('New')
    const changed = await ctx.request('PATCH', `/users/${user.id}/`, {
      token: su.token,
      json: { email: ` ${email} `, password: 'a brand new secret', is_superuser: true },
    })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ email, is_superuser: true })
    expect(changed.text).not.toContain('secret')
    const [after] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    expect(after!.hashed_password).not.toBe(before!.hashed_password)
    expect(await Bun.password.verify('a brand new secret', after!.hashed_password)).toBe(true)
    expect(await liveSessions(user.id)).toEqual([])
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(401)
  })

  test('deactivating a user ends its sessions: its token stops working at once, and reactivating does not bring it back', async () => {
    const user = await ctx.account()
    const res = await ctx.request('PATCH', `/users/${user.id}`, { token: su.token, json: { is_active: false } })
    expect(res.status).toBe(200)
    expect(res.body.is_active).toBe(false)
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(401)
    await ctx.request('PATCH', `/users/${user.id}`, { token: su.token, json: { is_active: true } })
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(401)
    expect(await liveSessions(user.id)).toEqual([])
  })

  test('an empty body changes nothing and answers 200 with the user', async () => {
    const user = await ctx.createUser()
    for (const init of [{ json: {} }, { body: '', headers: { 'content-type': 'application/json' } }, {}]) {
      const res = await ctx.request('PATCH', `/users/${user.id}`, { ...init, token: su.token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual(publicUser(user))
    }
  })

  test('an email taken by another user (any case) is 409 and changes nothing', async () => {
    const a = await ctx.createUser()
    const b = await ctx.createUser()
    const res = await ctx.request('PATCH', `/users/${b.id}`, {
      token: su.token,
      json: { email: a.email.toUpperCase(), is_active: false },
    })
    expect(res.status).toBe(409)
    expect(res.body).toEqual({ detail: 'Email already registered', code: 'email_taken' })
    const [row] = await ctx.sql`select email, is_active from users where id = ${b.id}`
    expect(row).toEqual({ email: b.email, is_active: true })
  })

  test.each([
    [{ email: null }, 'email', 'string_type'],
    [{ password: null }, 'password', 'string_type'],
    [{ is_active: null }, 'is_active', 'bool_type'],
    [{ is_active: 'yes' }, 'is_active', 'bool_type'],
    [{ is_superuser: 'yes' }, 'is_superuser', 'bool_type'],
    [{ email: 'nope' }, 'email', 'value_error'],
    [{ password: 'short' }, 'password', 'string_too_short'],
  ])('%j is 422', async (json, field, type) => {
    const user = await ctx.createUser()
    const res = await ctx.request('PATCH', `/users/${user.id}`, { token: su.token, json })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body', field], msg: expect.any(String), type }])
  })

  test('an unknown user is 404; anyone but a superuser is 403 and changes nothing', async () => {
    const res = await ctx.request('PATCH', '/users/9223372036854775806', {
      token: su.token,
      json: { is_active: false },
    })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })

    const user = await ctx.account()
    const self = await ctx.request('PATCH', `/users/${user.id}`, { token: user.token, json: { is_superuser: true } })
    expect(self.status).toBe(403)
    const [row] = await ctx.sql`select is_superuser from users where id = ${user.id}`
    expect(row!.is_superuser).toBe(false)
  })
})

describe('DELETE /users/{user_id} (superusers)', () => {
  test('deletes the user, its items and its sessions', async () => {
    const user = await ctx.account()
    const item = await ctx.request('POST', '/items/', { token: user.token, json: { title: 'doomed' } })
    const res = await ctx.request('DELETE', `/users/${user.id}`, { token: su.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(await ctx.sql`select id from users where id = ${user.id}`).toHaveLength(0)
    expect(await ctx.sql`select id from items where id = ${item.body.id}`).toHaveLength(0)
    expect(await ctx.sql`select id from sessions where user_id = ${user.id}`).toHaveLength(0)
    expect((await ctx.request('GET', `/users/${user.id}`, { token: su.token })).status).toBe(404)
    expect((await ctx.request('GET', '/users/me', { token: user.token })).status).toBe(401)
  })

  test('an unknown user is 404; itself is 403; anyone else is 403 and deletes nothing', async () => {
    const unknown = await ctx.request('DELETE', '/users/9223372036854775805', { token: su.token })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
    const self = await ctx.request('DELETE', `/users/${su.id}`, { token: su.token })
    expect(self.status).toBe(403)
    expect(self.body.code).toBe('cannot_delete_self')

    const user = await ctx.account()
    const victim = await ctx.createUser()
    const refused = await ctx.request('DELETE', `/users/${victim.id}`, { token: user.token })
    expect(refused.status).toBe(403)
    expect(await ctx.sql`select id from users where id in ${ctx.sql([victim.id, su.id])}`).toHaveLength(2)
  })
})
