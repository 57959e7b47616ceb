// A client written for the FastAPI tutorial and the full-stack FastAPI template works against this
// service over HTTP: it signs up, logs in with the OAuth2 password form and sends the bearer token,
// with the documented differences (201 on create, 409 on a duplicate email). On a database of its
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

const post = (path: string, body: unknown, token?: string) =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  })
const get = (path: string, token: string) => fetch(base + path, { headers: { authorization: `Bearer ${token}` } })

test('sign up, log in with the OAuth2 form, read yourself, add an item, list items', async () => {
  const email = uniqueEmail('tutorial')
  const created = await post('/users/signup', { email, password: 'chimichangas4life', full_name: 'Deadpool' })
  expect(created.status).toBe(201)
  const user = (await created.json()) as { id: number }
  ctx.track(user.id)
  // (copies: bun's toMatchObject writes its matchers into the object it checks)
  expect({ ...user }).toMatchObject({ email, id: expect.any(Number), is_active: true, is_superuser: false, items: [] })

  const duplicate = await post('/users/signup', { email, password: 'chimichangas4life' })
  expect(duplicate.status).toBe(409)
  expect(await duplicate.json()).toEqual({ detail: 'Email already registered', code: 'email_taken' })

  // What FastAPI's OAuth2PasswordRequestForm clients (and Swagger UI) send.
  const login = await fetch(`${base}/login/access-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: email, password: 'chimichangas4life', scope: '' }),
  })
  expect(login.status).toBe(200)
  const tokens = (await login.json()) as { access_token: string; token_type: string; expires_in: number }
  expect(tokens.token_type).toBe('bearer')
  expect(tokens.expires_in).toBe(15 * 60)
  const token = tokens.access_token

  const wrong = await fetch(`${base}/login/access-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: email, password: 'not my password' }),
  })
  expect(wrong.status).toBe(400)
  expect(await wrong.json()).toEqual({ detail: 'Incorrect email or password', code: 'incorrect_credentials' })

  const me = await get('/users/me', token)
  expect(me.status).toBe(200)
  expect(await me.json()).toMatchObject({ email, id: user.id, full_name: 'Deadpool', items: [] })

  const anonymous = await fetch(`${base}/users/me`)
  expect(anonymous.status).toBe(401)
  expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')

  const item = await post(`/users/${user.id}/items/`, { title: 'Foo', description: 'A very nice Item' }, token)
  expect(item.status).toBe(201)
  const itemBody = (await item.json()) as object
  expect({ ...itemBody }).toMatchObject({
    title: 'Foo',
    description: 'A very nice Item',
    id: expect.any(Number),
    owner_id: user.id,
  })

  const items = await get('/items/?skip=0&limit=100', token)
  expect(items.status).toBe(200)
  expect(await items.json()).toEqual([itemBody])
  expect(items.headers.get('x-total-count')).toBe('1')

  const withItems = (await (await get(`/users/${user.id}`, token)).json()) as { items: object[] }
  expect(withItems.items).toEqual([itemBody])
})
