import { afterAll, describe, expect, test } from 'bun:test'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('POST /users/', () => {
  test('creates a user: 201, Location, the public fields, an argon2id hash in the table', async () => {
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/', { json: { email, password: 'correct horse battery' } })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(Number),
      email,
      is_active: true,
      created_at: expect.stringMatching(isoDate),
      items: [],
    })
    expect(res.headers.get('location')).toBe(`/users/${res.body.id}`)
    expect(res.text).not.toContain('password')

    const [row] = await ctx.sql`select email, hashed_password, is_active from users where id = ${res.body.id}`
    expect(row!.email).toBe(email)
    expect(row!.hashed_password).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
    expect(await Bun.password.verify('correct horse battery', row!.hashed_password)).toBe(true)
  })

  test('a duplicate email, in any letter case, is 409 and writes nothing', async () => {
    const email = uniqueEmail('Dup')
    await ctx.createUser({ email })
    const res = await ctx.request('POST', '/users', {
      json: { email: email.toUpperCase(), password: 'another password' },
    })
    expect(res.status).toBe(409)
    expect(res.body).toEqual({ detail: 'Email already registered', code: 'email_taken' })
    const [{ count }] = await ctx.sql<
      [{ count: number }]
    >`select count(*)::int as count from users where lower(email) = lower(${email})`
    expect(count).toBe(1)
  })

  test('letter case is ignored beyond ASCII too', async () => {
    const local = `ünï-${crypto.randomUUID()}`
    await ctx.createUser({ email: `${local}@exämple.com` })
    const res = await ctx.request('POST', '/users/', {
      json: { email: `${local.toUpperCase()}@EXÄMPLE.COM`, password: 'correct horse battery' },
    })
    expect(res.status).toBe(409)
  })

  test('emails are trimmed and NFC-normalised before they are stored and compared', async () => {
    const local = `jose-${crypto.randomUUID()}`
    const nfd = `  ${local}\u0301@example.com `.normalize('NFD')
    const res = await ctx.request('POST', '/users/', { json: { email: nfd, password: 'correct horse battery' } })
    expect(res.status).toBe(201)
    expect(res.body.email).toBe(`${local}\u0301@example.com`.normalize('NFC'))
    const again = await ctx.request('POST', '/users/', {
      json: { email: `${local}\u0301@example.com`.normalize('NFC'), password: 'correct horse battery' },
    })
    expect(again.status).toBe(409)
  })

  test('fields a client may not set are ignored', async () => {
    const email = uniqueEmail()
    const res = await ctx.request('POST', '/users/', {
      json: {
        email,
        password: 'correct horse battery',
        id: 424242,
        hashed_password: 'x',
        is_active: false,
        created_at: '2000-01-01T00:00:00Z',
        is_superuser: true,
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.id).not.toBe(424242)
    expect(res.body.created_at).not.toStartWith('2000')
    const [row] = await ctx.sql`select hashed_password from users where id = ${res.body.id}`
    expect(row!.hashed_password).toStartWith('$argon2id$')
  })

  test.each([
    [
      {},
      [
        ['email', 'missing'],
        ['password', 'missing'],
      ],
    ],
    [{ email: 'not-an-email', password: 'correct horse battery' }, [['email', 'value_error']]],
    [{ email: 'a@b', password: 'correct horse battery' }, [['email', 'value_error']]],
    [{ email: `${'a'.repeat(250)}@example.com`, password: 'correct horse battery' }, [['email', 'string_too_long']]],
    [{ email: 'a@b.co', password: 'short' }, [['password', 'string_too_short']]],
    [{ email: 'a@b.co', password: 'p'.repeat(129) }, [['password', 'string_too_long']]],
    [{ email: 'a@b.co', password: 'nul\u0000byte-password' }, [['password', 'string_pattern_mismatch']]],
    [{ email: 'a\u0000b@example.com', password: 'correct horse battery' }, [['email', 'value_error']]],
    [{ email: 'a\ud800b@example.com', password: 'correct horse battery' }, [['email', 'value_error']]],
    [{ email: 'a@b.co', password: 'lone \udc00 surrogate' }, [['password', 'string_pattern_mismatch']]],
    [
      { email: 42, password: 12345678 },
      [
        ['email', 'string_type'],
        ['password', 'string_type'],
      ],
    ],
    [{ email: null, password: 'correct horse battery' }, [['email', 'string_type']]],
  ])('invalid body, case %#: 422 naming each field, never echoing values', async (json, expected) => {
    const res = await ctx.request('POST', '/users/', { json })
    expect(res.status).toBe(422)
    expect(Object.keys(res.body).sort()).toEqual(['code', 'detail'])
    expect(res.body.code).toBe('validation_failed')
    expect(res.body.detail.map((d: any) => [d.loc[1], d.type])).toEqual(expected)
    for (const item of res.body.detail) {
      expect(item.loc[0]).toBe('body')
      expect(item.msg).toBeString()
      expect(Object.keys(item).sort()).toEqual(['loc', 'msg', 'type'])
    }
    expect(res.text).not.toContain('correct horse battery')
    expect(res.text).not.toContain('"short"')
  })

  test('a field nested thousands of levels deep is a 422 at ["body"], not a stack overflow', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const res = await ctx.request('POST', '/users/', {
      body: `{"email":"a@b.co","password":${deep}}`,
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body'], msg: expect.any(String), type: 'value_error' }])
  })

  test.each([['a@b.co', 'password123'], 'a@b.co', 5, null, true])(
    'a body that is not an object (%j) is 422 at ["body"]',
    async (json) => {
      const res = await ctx.request('POST', '/users/', { json })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({
        detail: [{ loc: ['body'], msg: expect.any(String), type: 'model_attributes_type' }],
        code: 'validation_failed',
      })
    },
  )
})

describe('GET /users/', () => {
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
    const res = await ctx.request('GET', `/users/?${query}`)
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['query', field], msg: expect.any(String), type }])
  })
})

describe('GET /users/{user_id}', () => {
  test('reads a user with its items', async () => {
    const user = await ctx.createUser()
    const item = await ctx.request('POST', `/users/${user.id}/items/`, { json: { title: 'Mine', description: 'one' } })
    const res = await ctx.request('GET', `/users/${user.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ...user, items: [item.body] })
  })

  test('an unknown id is 404 User not found', async () => {
    const res = await ctx.request('GET', '/users/9223372036854775807')
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
    const res = await ctx.request('GET', `/users/${id}`)
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['path', 'user_id'], msg: expect.any(String), type }])
  })
})

describe('PATCH /users/{user_id}', () => {
  test('changes only the fields sent; a new password is hashed', async () => {
    const user = await ctx.createUser()
    const [before] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    const res = await ctx.request('PATCH', `/users/${user.id}`, { json: { is_active: false } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ...user, is_active: false })

    const email = uniqueEmail('New')
    const changed = await ctx.request('PATCH', `/users/${user.id}/`, {
      json: { email: ` ${email} `, password: 'a brand new secret' },
    })
    expect(changed.status).toBe(200)
    expect(changed.body.email).toBe(email)
    expect(changed.text).not.toContain('secret')
    const [after] = await ctx.sql`select email, hashed_password, is_active from users where id = ${user.id}`
    expect(after!.is_active).toBe(false)
    expect(after!.hashed_password).not.toBe(before!.hashed_password)
    expect(await Bun.password.verify('a brand new secret', after!.hashed_password)).toBe(true)
  })

  test('an empty body changes nothing and answers 200 with the user', async () => {
    const user = await ctx.createUser()
    for (const init of [{ json: {} }, { body: '', headers: { 'content-type': 'application/json' } }, {}]) {
      const res = await ctx.request('PATCH', `/users/${user.id}`, init)
      expect(res.status).toBe(200)
      expect(res.body).toEqual(user)
    }
  })

  test('an email taken by another user (any case) is 409 and changes nothing', async () => {
    const a = await ctx.createUser()
    const b = await ctx.createUser()
    const res = await ctx.request('PATCH', `/users/${b.id}`, {
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
    [{ email: 'nope' }, 'email', 'value_error'],
    [{ password: 'short' }, 'password', 'string_too_short'],
  ])('%j is 422', async (json, field, type) => {
    const user = await ctx.createUser()
    const res = await ctx.request('PATCH', `/users/${user.id}`, { json })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body', field], msg: expect.any(String), type }])
  })

  test('an unknown user is 404', async () => {
    const res = await ctx.request('PATCH', '/users/9223372036854775806', { json: { is_active: false } })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
  })
})

describe('DELETE /users/{user_id}', () => {
  test('deletes the user and its items', async () => {
    const user = await ctx.createUser()
    const item = await ctx.request('POST', `/users/${user.id}/items/`, { json: { title: 'doomed' } })
    const res = await ctx.request('DELETE', `/users/${user.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(await ctx.sql`select id from users where id = ${user.id}`).toHaveLength(0)
    expect(await ctx.sql`select id from items where id = ${item.body.id}`).toHaveLength(0)
    expect((await ctx.request('GET', `/users/${user.id}`)).status).toBe(404)
  })

  test('an unknown user is 404', async () => {
    const res = await ctx.request('DELETE', '/users/9223372036854775805')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
  })
})
