// The exported `App` type gives Elysia users a typed Eden client with no code generation; this
// file is type-checked with the project (`bun run typecheck`), so a broken type fails CI.

import { afterAll, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'
import { createTestContext, uniqueEmail } from '../support/context'

const ctx = createTestContext()
afterAll(() => ctx.cleanup())

test('an Eden treaty client over the app creates and reads a user, fully typed', async () => {
  const api = treaty<App>(ctx.app)
  const email = uniqueEmail('eden')
  const created = await api.users.post({ email, password: 'correct horse battery' })
  expect(created.status).toBe(201)
  if (!created.data || !('id' in created.data)) throw new Error(`unexpected answer: ${JSON.stringify(created.error)}`)
  const id: number = created.data.id
  ctx.track(id)

  const read = await api.users({ user_id: String(id) }).get()
  expect(read.status).toBe(200)
  const readEmail: string | undefined = read.data?.email
  expect(readEmail).toBe(email)

  const missing = await api.users({ user_id: '9223372036854775807' }).get()
  expect(missing.status).toBe(404)
  expect(missing.error?.value).toEqual({ detail: 'User not found', code: 'user_not_found' })
})
