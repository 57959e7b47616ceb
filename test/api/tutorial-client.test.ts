// A client written for the FastAPI tutorial's API works against this service over HTTP, with
// the two documented differences: 201 on create and 409 on a duplicate email. On a database of its
// own, so that its lists hold exactly what it made.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createTestContext, type TestContext, uniqueEmail } from '../support/context'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'

let scratch: ScratchDatabase
let ctx: TestContext
let base = ''
beforeAll(async () => {
  scratch = await createScratchDatabase({ migrated: true })
  ctx = createTestContext({ url: scratch.url })
  ctx.app.listen({ hostname: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${ctx.app.server!.port}`
})
afterAll(async () => {
  await ctx?.app.stop()
  await ctx?.cleanup()
  await scratch?.drop()
})

const post = (path: string, body: unknown) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

test('create a user, read it, list users, add an item, list items', async () => {
  const email = uniqueEmail('tutorial')
  const created = await post('/users/', { email, password: 'chimichangas4life' })
  expect(created.status).toBe(201)
  const user = (await created.json()) as { id: number }
  ctx.track(user.id)
  // (copies: bun's toMatchObject writes its matchers into the object it checks)
  expect({ ...user }).toMatchObject({ email, id: expect.any(Number), is_active: true, items: [] })

  const duplicate = await post('/users/', { email, password: 'chimichangas4life' })
  expect(duplicate.status).toBe(409)
  expect(await duplicate.json()).toEqual({ detail: 'Email already registered', code: 'email_taken' })

  const read = await fetch(`${base}/users/${user.id}`)
  expect(read.status).toBe(200)
  expect(await read.json()).toMatchObject({ email, id: user.id, is_active: true, items: [] })

  const missing = await fetch(`${base}/users/999999999`)
  expect(missing.status).toBe(404)
  expect(await missing.json()).toEqual({ detail: 'User not found', code: 'user_not_found' })

  // The only user there is: the one just made, as read.
  const list = await fetch(`${base}/users/?skip=0&limit=100`)
  expect(list.status).toBe(200)
  expect(await list.json()).toEqual([user])

  const item = await post(`/users/${user.id}/items/`, { title: 'Foo', description: 'A very nice Item' })
  expect(item.status).toBe(201)
  const itemBody = (await item.json()) as object
  expect({ ...itemBody }).toMatchObject({
    title: 'Foo',
    description: 'A very nice Item',
    id: expect.any(Number),
    owner_id: user.id,
  })

  const items = await fetch(`${base}/items/?skip=0&limit=100`)
  expect(items.status).toBe(200)
  expect(await items.json()).toEqual([itemBody])

  const withItems = (await (await fetch(`${base}/users/${user.id}`)).json()) as { items: object[] }
  expect(withItems.items).toEqual([itemBody])
})
