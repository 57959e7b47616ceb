// Lists page by id with `offset` (or `skip`) and `limit`, 100 rows when no limit is given. Checked on a
// database of this file's own, emptied before each test: every row is the test's, so each page is
// exactly known, whoever else shares the test server.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createDatabase } from '../../src/db/database'
import { createItemsRepository, type ItemsRepository } from '../../src/modules/items/repository'
import { createUsersRepository, type UsersRepository } from '../../src/modules/users/repository'
import { createTestContext, type TestContext } from '../support/context'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'

let scratch: ScratchDatabase
let ctx: TestContext
let users: UsersRepository
let items: ItemsRepository
beforeAll(async () => {
  scratch = await createScratchDatabase({ migrated: true })
  ctx = createTestContext({ url: scratch.url })
  const db = createDatabase(ctx.sql, ctx.config.database)
  users = createUsersRepository(db)
  items = createItemsRepository(db)
})
afterAll(async () => {
  await ctx?.cleanup()
  await scratch?.drop()
})
beforeEach(async () => {
  await ctx.sql`truncate users, items`
})

const ids = (rows: { id: number }[]) => rows.map((row) => row.id)

/** `count` rows made directly, in id order. */
async function insertUsers(count: number): Promise<number[]> {
  const rows = await ctx.sql<{ id: number }[]>`
    insert into users (email, hashed_password)
    select 'page-' || g || '@example.com', 'x' from generate_series(1, ${count}) g
    order by g
    returning id::int`
  return ids(rows)
}

describe('GET /users/', () => {
  test('lists users ordered by id with their items, paged by offset/skip and limit', async () => {
    const a = await ctx.createUser()
    const b = await ctx.createUser()
    const c = await ctx.createUser()
    await ctx.request('POST', `/users/${b.id}/items/`, { json: { title: 'B item' } })

    const all = await ctx.request('GET', '/users/?limit=100')
    expect(all.status).toBe(200)
    expect(ids(all.body)).toEqual([a.id, b.id, c.id])

    const page = await ctx.request('GET', '/users/?offset=0&limit=3')
    expect(ids(page.body)).toEqual([a.id, b.id, c.id])
    expect(page.body[1].items).toEqual([expect.objectContaining({ title: 'B item', owner_id: b.id })])
    for (const user of page.body)
      expect(Object.keys(user).sort()).toEqual(['created_at', 'email', 'id', 'is_active', 'items'])

    expect(ids((await ctx.request('GET', '/users?skip=1&limit=1')).body)).toEqual([b.id])
    expect(ids((await ctx.request('GET', '/users/?offset=2&limit=5')).body)).toEqual([c.id])
    expect((await ctx.request('GET', '/users/?offset=3')).body).toEqual([])
  })

  test('without a limit, a page holds 100 users', async () => {
    const made = await insertUsers(101)
    const res = await ctx.request('GET', '/users/')
    expect(res.status).toBe(200)
    expect(ids(res.body)).toEqual(made.slice(0, 100))
    expect(ids((await ctx.request('GET', '/users/?offset=100')).body)).toEqual(made.slice(100))
  })
})

describe('GET /items/', () => {
  test('lists items ordered by id, paged', async () => {
    const owner = await ctx.createUser()
    const a = (await ctx.request('POST', `/users/${owner.id}/items/`, { json: { title: 'list a' } })).body
    const b = (await ctx.request('POST', `/users/${owner.id}/items/`, { json: { title: 'list b' } })).body
    const res = await ctx.request('GET', '/items/?offset=0&limit=2')
    expect(res.status).toBe(200)
    expect(res.body).toEqual([a, b])
    expect((await ctx.request('GET', '/items?skip=1&limit=1')).body).toEqual([b])
  })

  test('without a limit, a page holds 100 items', async () => {
    const [owner] = await insertUsers(1)
    const rows = await ctx.sql<{ id: number }[]>`
      insert into items (title, owner_id) select 'page ' || g, ${owner!} from generate_series(1, 101) g
      order by g
      returning id::int`
    const res = await ctx.request('GET', '/items/?skip=0')
    expect(res.status).toBe(200)
    expect(ids(res.body)).toEqual(ids(rows).slice(0, 100))
  })
})

describe('the repositories', () => {
  test('listUsers pages by offset and limit, ordered by id', async () => {
    const made = await insertUsers(3)
    expect(ids(await users.listUsers({ offset: '0', limit: '2' }))).toEqual(made.slice(0, 2))
    expect(ids(await users.listUsers({ offset: '1', limit: '2' }))).toEqual(made.slice(1, 3))
  })

  test('listItems pages by offset and limit, ordered by id', async () => {
    const [owner] = await insertUsers(1)
    const a = await items.createItem(String(owner), { title: 'p1' })
    const b = await items.createItem(String(owner), { title: 'p2' })
    expect(await items.listItems({ offset: '0', limit: '2' })).toEqual([a, b])
    expect(await items.listItems({ offset: '1', limit: '2' })).toEqual([b])
  })
})
