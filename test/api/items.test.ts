import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Account, createTestContext } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

let owner: Account
let stranger: Account
let su: Account
beforeAll(async () => {
  owner = await ctx.account()
  stranger = await ctx.account()
  su = await ctx.account({ superuser: true })
})

const newItem = (json: unknown, as: Account = owner) => ctx.request('POST', '/items/', { token: as.token, json })

describe('POST /items/', () => {
  test('creates an item owned by the caller: 201, Location, the row in the table; owner_id and id are ignored', async () => {
    const res = await newItem({ title: 'Portal gun', description: 'Goes anywhere', owner_id: stranger.id, id: 5 })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(Number),
      title: 'Portal gun',
      description: 'Goes anywhere',
      owner_id: owner.id,
      created_at: expect.stringMatching(/Z$/),
    })
    expect(res.headers.get('location')).toBe(`/items/${res.body.id}`)
    const [row] = await ctx.sql`select title, description, owner_id::int from items where id = ${res.body.id}`
    expect(row).toEqual({ title: 'Portal gun', description: 'Goes anywhere', owner_id: owner.id })
  })

  test('description is optional and may be null', async () => {
    expect((await newItem({ title: 'No description' })).body.description).toBeNull()
    expect((await newItem({ title: 'Null description', description: null })).body.description).toBeNull()
  })

  test.each([
    [{}, 'title', 'missing'],
    [{ title: '' }, 'title', 'string_too_short'],
    [{ title: 't'.repeat(256) }, 'title', 'string_too_long'],
    [{ title: 'nul \u0000 inside' }, 'title', 'string_pattern_mismatch'],
    [{ title: 5 }, 'title', 'string_type'],
    [{ title: null }, 'title', 'string_type'],
    [{ title: 'ok', description: 'd'.repeat(10_001) }, 'description', 'string_too_long'],
    [{ title: 'ok', description: 'nul \u0000' }, 'description', 'string_pattern_mismatch'],
    [{ title: 'lone \ud800' }, 'title', 'string_pattern_mismatch'],
    [{ title: 'ok', description: 7 }, 'description', 'string_type'],
  ])('invalid body, case %#: 422 at the field', async (json, field, type) => {
    const res = await newItem(json)
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body', field], msg: expect.any(String), type }])
  })

  test('limits are inclusive: a 255-character title and a 10,000-character description are accepted', async () => {
    const res = await newItem({ title: 't'.repeat(255), description: 'd'.repeat(10_000) })
    expect(res.status).toBe(201)
  })
})

describe('POST /users/{user_id}/items/', () => {
  test('for yourself: 201, owned by you', async () => {
    const res = await ctx.request('POST', `/users/${owner.id}/items/`, { token: owner.token, json: { title: 'mine' } })
    expect(res.status).toBe(201)
    expect(res.body.owner_id).toBe(owner.id)
  })

  test('for someone else: 403 and nothing written; a superuser may, for anyone', async () => {
    const title = `gift-${crypto.randomUUID()}`
    const refused = await ctx.request('POST', `/users/${owner.id}/items/`, { token: stranger.token, json: { title } })
    expect(refused.status).toBe(403)
    expect(refused.body.code).toBe('forbidden')
    expect(await ctx.sql`select id from items where title = ${title}`).toHaveLength(0)

    const made = await ctx.request('POST', `/users/${owner.id}/items/`, { token: su.token, json: { title } })
    expect(made.status).toBe(201)
    expect(made.body.owner_id).toBe(owner.id)
  })

  test('an unknown user is 404 for a superuser, and writes nothing', async () => {
    const title = `orphan-${crypto.randomUUID()}`
    const res = await ctx.request('POST', '/users/9223372036854775807/items/', { token: su.token, json: { title } })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
    expect(await ctx.sql`select id from items where title = ${title}`).toHaveLength(0)
  })
})

describe('GET /items/', () => {
  test("lists the caller's items only, with X-Total-Count; a superuser's lists everyone's", async () => {
    const mine = await ctx.account()
    const made = [(await newItem({ title: 'a' }, mine)).body, (await newItem({ title: 'b' }, mine)).body]
    await newItem({ title: 'not hers' }, stranger)
    const res = await ctx.request('GET', '/items/', { token: mine.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(made)
    expect(res.headers.get('x-total-count')).toBe('2')

    const page = await ctx.request('GET', '/items/?offset=1&limit=1', { token: mine.token })
    expect(page.body).toEqual([made[1]])
    expect(page.headers.get('x-total-count')).toBe('2')
    const past = await ctx.request('GET', '/items/?offset=5', { token: mine.token })
    expect(past.body).toEqual([])
    expect(past.headers.get('x-total-count')).toBe('2')

    const all = await ctx.request('GET', '/items/?limit=100', { token: su.token })
    const [{ count }] = await ctx.sql<[{ count: number }]>`select count(*)::int as count from items`
    expect(all.headers.get('x-total-count')).toBe(String(count))
    expect(new Set(all.body.map((item: { owner_id: number }) => item.owner_id)).size).toBeGreaterThan(1)
  })

  test('limit out of range is 422', async () => {
    const res = await ctx.request('GET', '/items/?limit=1000', { token: owner.token })
    expect(res.status).toBe(422)
    expect(res.body.detail[0]).toMatchObject({ loc: ['query', 'limit'], type: 'less_than_equal' })
  })
})

describe('GET, PATCH, DELETE /items/{item_id}', () => {
  test('reads an item', async () => {
    const item = (await newItem({ title: 'readable' })).body
    const res = await ctx.request('GET', `/items/${item.id}`, { token: owner.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(item)
    expect((await ctx.request('GET', `/items/${item.id}/`, { token: owner.token })).body).toEqual(item)
  })

  test("another user's item is 404 like a missing one, and is left as it was; a superuser reaches it", async () => {
    const item = (await newItem({ title: 'private', description: 'mine' })).body
    for (const [method, json] of [['GET'], ['PATCH', { title: 'taken over' }], ['DELETE']] as const) {
      const res = await ctx.request(method, `/items/${item.id}`, { token: stranger.token, json })
      expect(res.status).toBe(404)
      expect(res.body).toEqual({ detail: 'Item not found', code: 'item_not_found' })
    }
    const [row] = await ctx.sql`select title, description from items where id = ${item.id}`
    expect(row).toEqual({ title: 'private', description: 'mine' })

    expect((await ctx.request('GET', `/items/${item.id}`, { token: su.token })).body).toEqual(item)
    const patched = await ctx.request('PATCH', `/items/${item.id}`, { token: su.token, json: { title: 'moderated' } })
    expect(patched.body).toEqual({ ...item, title: 'moderated' })
    expect((await ctx.request('DELETE', `/items/${item.id}`, { token: su.token })).status).toBe(200)
    expect(await ctx.sql`select id from items where id = ${item.id}`).toHaveLength(0)
  })

  test('an unknown item is 404 Item not found', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await ctx.request(method, '/items/9223372036854775807', {
        token: owner.token,
        ...(method === 'PATCH' && { json: { title: 'x' } }),
      })
      expect(res.status).toBe(404)
      expect(res.body).toEqual({ detail: 'Item not found', code: 'item_not_found' })
    }
  })

  test('PATCH changes only what is sent; null clears the description; an empty body changes nothing', async () => {
    const item = (await newItem({ title: 'before', description: 'keep me' })).body
    const retitled = await ctx.request('PATCH', `/items/${item.id}`, { token: owner.token, json: { title: 'after' } })
    expect(retitled.status).toBe(200)
    expect(retitled.body).toEqual({ ...item, title: 'after' })

    const cleared = await ctx.request('PATCH', `/items/${item.id}`, { token: owner.token, json: { description: null } })
    expect(cleared.body).toEqual({ ...item, title: 'after', description: null })
    const [row] = await ctx.sql`select title, description from items where id = ${item.id}`
    expect(row).toEqual({ title: 'after', description: null })

    const unchanged = await ctx.request('PATCH', `/items/${item.id}`, { token: owner.token, json: {} })
    expect(unchanged.status).toBe(200)
    expect(unchanged.body).toEqual(cleared.body)
  })

  test('PATCH title null is 422 and changes nothing', async () => {
    const item = (await newItem({ title: 'stays' })).body
    const res = await ctx.request('PATCH', `/items/${item.id}`, {
      token: owner.token,
      json: { title: null, description: 'would change' },
    })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body', 'title'], msg: expect.any(String), type: 'string_type' }])
    const [row] = await ctx.sql`select title, description from items where id = ${item.id}`
    expect(row).toEqual({ title: 'stays', description: null })
  })

  test('PATCH ignores owner_id and id', async () => {
    const item = (await newItem({ title: 'mine' })).body
    const res = await ctx.request('PATCH', `/items/${item.id}`, {
      token: owner.token,
      json: { owner_id: stranger.id, id: 1 },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(item)
  })

  test('DELETE removes the item', async () => {
    const item = (await newItem({ title: 'gone soon' })).body
    const res = await ctx.request('DELETE', `/items/${item.id}`, { token: owner.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(await ctx.sql`select id from items where id = ${item.id}`).toHaveLength(0)
    expect((await ctx.request('GET', `/items/${item.id}`, { token: owner.token })).status).toBe(404)
  })

  test('item ids are validated like user ids', async () => {
    const res = await ctx.request('GET', '/items/1e3', { token: owner.token })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['path', 'item_id'], msg: expect.any(String), type: 'int_parsing' }])
  })
})
