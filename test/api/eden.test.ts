// The exported `App` type gives Elysia users a typed Eden client with no code generation; this
// file is type-checked with the project (`bun run typecheck`), so a broken type fails CI.

import { afterAll, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

test('an Eden treaty client over the app signs up and reads its account, fully typed', async () => {
  const api = treaty<App>(ctx.app)
  const email = uniqueEmail('eden')
  const created = await api.users.signup.post({ email, password: 'correct horse battery' })
  expect(created.status).toBe(201)
  if (!created.data || !('id' in created.data)) throw new Error(`unexpected answer: ${JSON.stringify(created.error)}`)
  const id: number = created.data.id
  ctx.track(id)

  const { token } = await ctx.signIn({ id, email, password: 'correct horse battery', is_superuser: false })
  const headers = { authorization: `Bearer ${token}` }
  const read = await api.users({ user_id: String(id) }).get({ headers })
  expect(read.status).toBe(200)
  const readEmail: string | undefined = read.data?.email
  expect(readEmail).toBe(email)

  const anonymous = await api.users.me.get()
  expect(anonymous.status).toBe(401)
  expect(anonymous.error?.value).toEqual({ detail: 'Not authenticated', code: 'not_authenticated' })
})
