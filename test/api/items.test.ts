import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestContext } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

let owner: Awaited<ReturnType<typeof ctx.createUser>>
beforeAll(async () => {
  owner = await ctx.createUser()
})

const newItem = (json: unknown, userId: number | string = owner.id) =>
  ctx.request('POST', `/users/${userId}/items/`, { json })

describe('POST /users/{user_id}/items/', () => {
  test('creates an item owned by the user: 201, Location, the row in the table', async () => {
    const res = await newItem({ title: 'Portal gun', description: 'Goes anywhere', owner_id: 999999, id: 5 })
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

  test('an unknown user is 404 and writes nothing', async () => {
    const title = `orphan-${crypto.randomUUID()}`
    const res = await newItem({ title }, '9223372036854775807')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
    expect(await ctx.sql`select id from items where title = ${title}`).toHaveLength(0)
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

describe('GET /items/', () => {
  test('limit out of range is 422', async () => {
    const res = await ctx.request('GET', '/items/?limit=1000')
    expect(res.status).toBe(422)
    expect(res.body.detail[0]).toMatchObject({ loc: ['query', 'limit'], type: 'less_than_equal' })
  })
})

describe('GET, PATCH, DELETE /items/{item_id}', () => {
  test('reads an item', async () => {
    const item = (await newItem({ title: 'readable' })).body
    const res = await ctx.request('GET', `/items/${item.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual(item)
    expect((await ctx.request('GET', `/items/${item.id}/`)).body).toEqual(item)
  })

  test('an unknown item is 404 Item not found', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await ctx.request(
        method,
        '/items/9223372036854775807',
        method === 'PATCH' ? { json: { title: 'x' } } : {},
      )
      expect(res.status).toBe(404)
      expect(res.body).toEqual({ detail: 'Item not found', code: 'item_not_found' })
    }
  })

  test('PATCH changes only what is sent; null clears the description; an empty body changes nothing', async () => {
    const item = (await newItem({ title: 'before', description: 'keep me' })).body
    const retitled = await ctx.request('PATCH', `/items/${item.id}`, { json: { title: 'after' } })
    expect(retitled.status).toBe(200)
    expect(retitled.body).toEqual({ ...item, title: 'after' })

    const cleared = await ctx.request('PATCH', `/items/${item.id}`, { json: { description: null } })
    expect(cleared.body).toEqual({ ...item, title: 'after', description: null })
    const [row] = await ctx.sql`select title, description from items where id = ${item.id}`
    expect(row).toEqual({ title: 'after', description: null })

    const unchanged = await ctx.request('PATCH', `/items/${item.id}`, { json: {} })
    expect(unchanged.status).toBe(200)
    expect(unchanged.body).toEqual(cleared.body)
  })

  test('PATCH title null is 422 and changes nothing', async () => {
    const item = (await newItem({ title: 'stays' })).body
    const res = await ctx.request('PATCH', `/items/${item.id}`, { json: { title: null, description: 'would change' } })
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['body', 'title'], msg: expect.any(String), type: 'string_type' }])
    const [row] = await ctx.sql`select title, description from items where id = ${item.id}`
    expect(row).toEqual({ title: 'stays', description: null })
  })

  test('PATCH ignores owner_id and id', async () => {
    const other = await ctx.createUser()
    const item = (await newItem({ title: 'mine' })).body
    const res = await ctx.request('PATCH', `/items/${item.id}`, { json: { owner_id: other.id, id: 1 } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(item)
  })

  test('DELETE removes the item', async () => {
    const item = (await newItem({ title: 'gone soon' })).body
    const res = await ctx.request('DELETE', `/items/${item.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
    expect(await ctx.sql`select id from items where id = ${item.id}`).toHaveLength(0)
    expect((await ctx.request('GET', `/items/${item.id}`)).status).toBe(404)
  })

  test('item ids are validated like user ids', async () => {
    const res = await ctx.request('GET', '/items/1e3')
    expect(res.status).toBe(422)
    expect(res.body.detail).toEqual([{ loc: ['path', 'item_id'], msg: expect.any(String), type: 'int_parsing' }])
  })
})
