// Lists page by id with `offset` (or `skip`) and `limit`, 100 rows when no limit is given, and say
// how many rows there are in `X-Total-Count`. Checked on a database of this file's own, emptied
// before each test: every row is the test's, so each page is exactly known, whoever else shares
// the test server.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createDatabase } from '../../src/db/database'
import { createItemsRepository, type ItemsRepository } from '../../src/modules/items/repository'
import { createUsersRepository, type UsersRepository } from '../../src/modules/users/repository'
import type { Caller } from '../../src/security/tokens'
import { type Account, createTestContext, type TestContext } from '../support/context'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'

let scratch: ScratchDatabase
let ctx: TestContext
let users: UsersRepository
let items: ItemsRepository
let su: Account
let caller: Caller
beforeAll(async () => {
  scratch = await createScratchDatabase({ migrated: true })
  ctx = createTestContext({ url: scratch.url })
  const db = createDatabase(ctx.sql, ctx.config.database)
  users = createUsersRepository(db, ctx.config.items)
  items = createItemsRepository(db, ctx.config.items)
})
afterAll(async () => {
  await ctx?.cleanup()
  await scratch?.drop()
})
beforeEach(async () => {
  await ctx.sql`truncate users, items, sessions, spent_refresh_tokens, login_attempts`
  su = await ctx.account({ superuser: true })
  caller = { userId: String(su.id), sessionId: su.sessionId }
})

const ids = (rows: { id: number }[]) => rows.map((row) => row.id)
const asSu = (path: string) => ctx.request('GET', path, { token: su.token })

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
  test('lists users ordered by id with their items, paged by offset/skip and limit, with X-Total-Count', async () => {
    const a = await ctx.createUser()
    const b = await ctx.account()
    const c = await ctx.createUser()
    await ctx.request('POST', '/items/', { token: b.token, json: { title: 'B item' } })

    const all = await asSu('/users/?limit=100')
    expect(all.status).toBe(200)
    expect(ids(all.body)).toEqual([su.id, a.id, b.id, c.id])
    expect(all.headers.get('x-total-count')).toBe('4')

    const page = await asSu('/users/?offset=1&limit=3')
    expect(ids(page.body)).toEqual([a.id, b.id, c.id])
    expect(page.headers.get('x-total-count')).toBe('4')
    expect(page.body[1].items).toEqual([expect.objectContaining({ title: 'B item', owner_id: b.id })])
    for (const user of page.body)
      expect(Object.keys(user).sort()).toEqual([
        'created_at',
        'email',
        'full_name',
        'id',
        'is_active',
        'is_superuser',
        'items',
        'items_count',
      ])

    expect(ids((await asSu('/users?skip=2&limit=1')).body)).toEqual([b.id])
    expect(ids((await asSu('/users/?offset=3&limit=5')).body)).toEqual([c.id])
    const past = await asSu('/users/?offset=4')
    expect(past.body).toEqual([])
    expect(past.headers.get('x-total-count')).toBe('4')
  })

  test('without a limit, a page holds 100 users', async () => {
    const made = [su.id, ...(await insertUsers(100))]
    const res = await asSu('/users/')
    expect(res.status).toBe(200)
    expect(ids(res.body)).toEqual(made.slice(0, 100))
    expect(res.headers.get('x-total-count')).toBe('101')
    expect(ids((await asSu('/users/?offset=100')).body)).toEqual(made.slice(100))
  })
})

describe('GET /items/', () => {
  test('lists items ordered by id, paged', async () => {
    const a = (await ctx.request('POST', '/items/', { token: su.token, json: { title: 'list a' } })).body
    const b = (await ctx.request('POST', '/items/', { token: su.token, json: { title: 'list b' } })).body
    const res = await asSu('/items/?offset=0&limit=2')
    expect(res.status).toBe(200)
    expect(res.body).toEqual([a, b])
    expect(res.headers.get('x-total-count')).toBe('2')
    expect((await asSu('/items?skip=1&limit=1')).body).toEqual([b])
  })

  test('without a limit, a page holds 100 items', async () => {
    const [owner] = await insertUsers(1)
    const rows = await ctx.sql<{ id: number }[]>`
      insert into items (title, owner_id) select 'page ' || g, ${owner!} from generate_series(1, 101) g
      order by g
      returning id::int`
    const res = await asSu('/items/?skip=0')
    expect(res.status).toBe(200)
    expect(ids(res.body)).toEqual(ids(rows).slice(0, 100))
    expect(res.headers.get('x-total-count')).toBe('101')
  })
})

describe('X-Total-Count', () => {
  const totals = async () => ({
    users: (await asSu('/users/?limit=1')).headers.get('x-total-count'),
    items: (await asSu('/items/?limit=1')).headers.get('x-total-count'),
  })
  const counted = async () => {
    const [{ users }] = await ctx.sql<[{ users: string }]>`select count(*)::text as users from users`
    const [{ items }] = await ctx.sql<[{ items: string }]>`select count(*)::text as items from items`
    return { users, items }
  }

  test('stays exact through inserts (one row or many), deletes that cascade, and concurrent writers', async () => {
    expect(await totals()).toEqual(await counted())
    const made = await insertUsers(50)
    await ctx.sql`insert into items (title, owner_id) select 'bulk', u from unnest(${made}::int[]) u, generate_series(1, 3)`
    expect(await totals()).toEqual({ users: '51', items: '150' })
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ctx.request('POST', '/items/', { token: su.token, json: { title: `c${i}` } }),
      ),
    )
    await ctx.sql`delete from users where id = any(${made.slice(0, 10)}::int[])`
    expect(await totals()).toEqual({ users: '41', items: '140' })
    expect(await totals()).toEqual(await counted())
    const item = await ctx.request('POST', '/items/', { token: su.token, json: { title: 'gone' } })
    await ctx.request('DELETE', `/items/${item.body.id}`, { token: su.token })
    expect(await totals()).toEqual(await counted())
  })

  test('starts again from nothing after a truncation', async () => {
    await insertUsers(5)
    await ctx.sql`truncate users, items, sessions, spent_refresh_tokens, login_attempts`
    su = await ctx.account({ superuser: true })
    expect(await totals()).toEqual({ users: '1', items: '0' })
  })
})

describe('by cursor (after_id), with Link rel="next"', () => {
  /** The path and query of a Link header's next page, or undefined. */
  const nextOf = (res: { headers: Headers }) => /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1]

  test('following Link from the first page walks every item exactly once, in order; the last page has none', async () => {
    const [owner] = await insertUsers(1)
    const rows = await ctx.sql<{ id: number }[]>`
      insert into items (title, owner_id) select 'walk ' || g, ${owner!} from generate_series(1, 25) g order by g returning id::int`
    const seen: number[] = []
    let path: string | undefined = '/items/?limit=10'
    let pages = 0
    while (path) {
      const res = await asSu(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-total-count')).toBe('25')
      seen.push(...ids(res.body))
      path = nextOf(res)
      pages++
    }
    expect(seen).toEqual(ids(rows))
    expect(pages).toBe(3)
    // The links are cursors after each page's last row.
    const first = await asSu('/items/?limit=10')
    expect(nextOf(first)).toBe(`/items/?after_id=${rows[9]!.id}&limit=10`)
    expect(ids((await asSu(`/items/?after_id=${rows[9]!.id}&limit=10`)).body)).toEqual(ids(rows).slice(10, 20))
  })

  test('an offset page links to the next page by cursor too; users page the same way', async () => {
    const made = [su.id, ...(await insertUsers(4))]
    const res = await asSu('/users/?offset=1&limit=2')
    expect(ids(res.body)).toEqual(made.slice(1, 3))
    expect(nextOf(res)).toBe(`/users/?after_id=${made[2]}&limit=2`)
    const next = await asSu(nextOf(res)!)
    expect(ids(next.body)).toEqual(made.slice(3, 5))
    const last = await asSu(`/users/?after_id=${made[4]}&limit=2`)
    expect(last.body).toEqual([])
    expect(last.headers.get('link')).toBeNull()
  })

  test('after_id=0 starts at the beginning; with offset or skip, that many rows after the cursor are skipped', async () => {
    const [owner] = await insertUsers(1)
    const made = (
      await ctx.sql`insert into items (title, owner_id) values ('a', ${owner!}), ('b', ${owner!}), ('c', ${owner!}) returning id::int`
    ).map((row) => row.id as number)
    const listed = async (query: string) => ids((await asSu(`/items/?${query}`)).body)
    expect(await listed('after_id=0')).toEqual(made)
    expect(await listed(`after_id=${made[0]}&offset=1`)).toEqual(made.slice(2))
    expect(await listed(`after_id=${made[0]}&skip=0`)).toEqual(made.slice(1))
    const res = await asSu(`/items/?after_id=0&offset=1&limit=1`)
    expect(ids(res.body)).toEqual([made[1]!])
    expect(nextOf(res)).toBe(`/items/?after_id=${made[1]}&limit=1`)
    expect((await asSu('/items/?after_id=-1')).status).toBe(422)
  })

  test('an owner’s list pages by cursor through its own items only', async () => {
    const owner = await ctx.account()
    const made = []
    for (const title of ['x', 'y', 'z'])
      made.push((await ctx.request('POST', '/items/', { token: owner.token, json: { title } })).body)
    await ctx.request('POST', '/items/', { token: su.token, json: { title: 'not hers' } })
    const first = await ctx.request('GET', '/items/?limit=2', { token: owner.token })
    expect(first.body).toEqual(made.slice(0, 2))
    const second = await ctx.request('GET', nextOf(first)!, { token: owner.token })
    expect(second.body).toEqual(made.slice(2))
    expect(second.headers.get('link')).toBeNull()
  })
})

describe('the repositories', () => {
  test('listAs (users) pages by offset and limit, ordered by id, with the total', async () => {
    const made = [su.id, ...(await insertUsers(2))]
    const first = await users.listAs(caller, { offset: '0', limit: '2' })
    expect(ids(first.rows)).toEqual(made.slice(0, 2))
    expect(first.total).toBe(3)
    expect(ids((await users.listAs(caller, { offset: '1', limit: '2' })).rows)).toEqual(made.slice(1, 3))
  })

  test('listAs (items) pages by offset and limit, ordered by id, with the total', async () => {
    const a = await items.createAs(caller, caller.userId, { title: 'p1' })
    const b = await items.createAs(caller, caller.userId, { title: 'p2' })
    expect(await items.listAs(caller, { offset: '0', limit: '2' })).toEqual({ rows: [a, b], total: 2 })
    expect(await items.listAs(caller, { offset: '1', limit: '2' })).toEqual({ rows: [b], total: 2 })
  })
})
