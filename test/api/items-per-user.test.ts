// What one user owns is bounded: a user embeds only its first items (USER_ITEMS_EMBED_MAX) and says
// how many it has, the rest are paged at /users/{user_id}/items/, and no user owns more than
// MAX_ITEMS_PER_USER (409 past it, race-free).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { type Account, createTestContext, databaseUrl } from '../support/context'
import { serviceQueriesWaitingForLock } from '../support/locks'
import { waitFor } from '../support/wait'

const EMBED_MAX = 2
const CAP = 4
const ctx = createTestContext({ env: { USER_ITEMS_EMBED_MAX: String(EMBED_MAX), MAX_ITEMS_PER_USER: String(CAP) } })
afterAll(() => ctx.cleanup())

let owner: Account
let stranger: Account
let su: Account
beforeAll(async () => {
  owner = await ctx.account()
  stranger = await ctx.account()
  su = await ctx.account({ superuser: true })
})

const create = (as: Account, title: string, path = '/items/') =>
  ctx.request('POST', path, { token: as.token, json: { title } })
const countOf = async (userId: number) =>
  (await ctx.sql<[{ n: number }]>`select count(*)::int as n from items where owner_id = ${userId}`)[0].n

describe('a user embeds its first items and says how many it has', () => {
  test('items holds the lowest ids up to USER_ITEMS_EMBED_MAX; items_count all of them, as the table does', async () => {
    const user = await ctx.account()
    const made = []
    for (const title of ['one', 'two', 'three']) made.push((await create(user, title)).body)
    const me = await ctx.request('GET', '/users/me', { token: user.token })
    expect(me.body.items_count).toBe(3)
    expect(me.body.items).toEqual(made.slice(0, EMBED_MAX))
    const listed = await ctx.request('GET', `/users/?after_id=${user.id - 1}&limit=1`, { token: su.token })
    expect(listed.body[0]).toMatchObject({ id: user.id, items_count: 3, items: made.slice(0, EMBED_MAX) })

    await ctx.request('DELETE', `/items/${made[0].id}`, { token: user.token })
    const after = await ctx.request('GET', `/users/${user.id}`, { token: user.token })
    expect(after.body.items_count).toBe(2)
    expect(after.body.items).toEqual(made.slice(1))
    const [row] = await ctx.sql`select items_count::int from users where id = ${user.id}`
    expect(row).toEqual({ items_count: await countOf(user.id) })
  })

  test("a user's deletion takes its items with it: the count triggers let the cascade through", async () => {
    const user = await ctx.account()
    await create(user, 'doomed')
    expect((await ctx.request('DELETE', `/users/${user.id}`, { token: su.token })).status).toBe(200)
    expect(await countOf(user.id)).toBe(0)
  })

  test("deleting an item while its owner is deleted never deadlocks: both take the owner's row first", async () => {
    for (let round = 0; round < 10; round++) {
      const user = await ctx.account()
      const items = []
      for (let i = 0; i < 3; i++) items.push((await create(user, `item ${i}`)).body.id)
      const answers = await Promise.all([
        ...items.map((id) => ctx.request('DELETE', `/items/${id}`, { token: user.token })),
        ctx.request('DELETE', `/users/${user.id}`, { token: su.token }),
      ])
      // Each item delete is 200 (first) or 401/404 (the user went first); never a 503 deadlock.
      for (const answer of answers) expect([200, 401, 404]).toContain(answer.status)
    }
  })
})

describe('GET /users/{user_id}/items/', () => {
  test("pages all of a user's items by id, with X-Total-Count and a Link to the next page", async () => {
    const user = await ctx.account()
    const ids = []
    for (const title of ['a', 'b', 'c']) ids.push((await create(user, title)).body.id)
    const first = await ctx.request('GET', `/users/${user.id}/items/?limit=2`, { token: user.token })
    expect(first.status).toBe(200)
    expect(first.body.map((item: { id: number }) => item.id)).toEqual(ids.slice(0, 2))
    expect(first.body[0]).toEqual({
      id: ids[0],
      title: 'a',
      description: null,
      owner_id: user.id,
      created_at: expect.stringMatching(/Z$/),
    })
    expect(first.headers.get('x-total-count')).toBe('3')
    const next = `/users/${user.id}/items/?after_id=${ids[1]}&limit=2`
    expect(first.headers.get('link')).toBe(`<${next}>; rel="next"`)
    const second = await ctx.request('GET', next, { token: user.token })
    expect(second.body.map((item: { id: number }) => item.id)).toEqual([ids[2]])
    expect(second.headers.get('link')).toBeNull()
    const byOffset = await ctx.request('GET', `/users/${user.id}/items/?skip=1&limit=1`, { token: user.token })
    expect(byOffset.body.map((item: { id: number }) => item.id)).toEqual([ids[1]])
  })

  test("another user's is 403, whether it exists or not; a superuser reads anyone's, and 404 for no one", async () => {
    await create(owner, 'owned')
    const other = await ctx.request('GET', `/users/${owner.id}/items/`, { token: stranger.token })
    expect(other.status).toBe(403)
    expect(other.body.code).toBe('forbidden')
    expect((await ctx.request('GET', '/users/9223372036854775807/items/', { token: stranger.token })).status).toBe(403)
    const bySu = await ctx.request('GET', `/users/${owner.id}/items/`, { token: su.token })
    expect(bySu.status).toBe(200)
    expect(bySu.body.length).toBe(await countOf(owner.id))
    const missing = await ctx.request('GET', '/users/9223372036854775807/items/', { token: su.token })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ detail: 'User not found', code: 'user_not_found' })
  })

  test('a user with no items has an empty list, with a total of 0', async () => {
    const user = await ctx.account()
    const res = await ctx.request('GET', `/users/${user.id}/items/`, { token: user.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual([])
    expect(res.headers.get('x-total-count')).toBe('0')
  })
})

describe('MAX_ITEMS_PER_USER', () => {
  test('past the cap a create is 409 too_many_items and adds nothing; deleting one makes room', async () => {
    const user = await ctx.account()
    const made = []
    for (let i = 0; i < CAP; i++) made.push((await create(user, `item ${i}`)).body)
    const refused = await create(user, 'one too many')
    expect(refused.status).toBe(409)
    expect(refused.body).toEqual({
      detail: `A user may own at most ${CAP} items; delete some first`,
      code: 'too_many_items',
    })
    // The tutorial's route, and a superuser giving the user one, hit the same cap.
    expect((await create(user, 'again', `/users/${user.id}/items/`)).status).toBe(409)
    expect((await create(su, 'from a superuser', `/users/${user.id}/items/`)).status).toBe(409)
    expect(await countOf(user.id)).toBe(CAP)

    await ctx.request('DELETE', `/items/${made[0].id}`, { token: user.token })
    expect((await create(user, 'room again')).status).toBe(201)
    expect(await countOf(user.id)).toBe(CAP)
  })

  test('concurrent creates never take a user past the cap', async () => {
    const user = await ctx.account()
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(user, `racer ${i}`)))
    const statuses = answers.map((answer) => answer.status).sort()
    expect(statuses).toEqual([...Array(CAP).fill(201), ...Array(12 - CAP).fill(409)])
    expect(await countOf(user.id)).toBe(CAP)
  })

  test("a create that waits on its owner's deletion is 404, not a false 409", async () => {
    const doomed = await ctx.account()
    const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} })
    try {
      let answer: Promise<{ status: number; body: { code: string } }> | undefined
      await admin.begin(async (tx) => {
        await tx`delete from users where id = ${doomed.id}`
        answer = create(su, 'too late', `/users/${doomed.id}/items/`)
        await waitFor('the create to wait for the owner', async () => (await serviceQueriesWaitingForLock(ctx.sql)) > 0)
      })
      const res = await answer!
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('user_not_found')
    } finally {
      await admin.end()
    }
  })

  test('the cap is checked only after who may create: a stranger is 403, a missing owner 404', async () => {
    expect((await create(stranger, 'not yours', `/users/${owner.id}/items/`)).status).toBe(403)
    const missing = await create(su, 'nobody', '/users/9223372036854775807/items/')
    expect(missing.status).toBe(404)
    expect(missing.body.code).toBe('user_not_found')
  })
})
