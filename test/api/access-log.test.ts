// One access line per request with method, path, status, duration and request id; JSON in
// production; never a password, a hash or a body.
import { afterAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/logger'
import { createTestContext, uniqueEmail } from '../support/context'
import { waitFor } from '../support/wait'

const lines: string[] = []
const ctx = createTestContext({
  logger: createLogger({ level: 'info', json: true, write: (line) => lines.push(line) }),
})
afterAll(() => ctx.cleanup())

const entries = () => lines.map((line) => JSON.parse(line))
// Access lines are written after the response has gone out: wait for them, not for a while.
const logged = (count: number) => waitFor(`${count} access log lines`, () => lines.length >= count)

describe('access log', () => {
  test('one JSON line per request: method, path, status, duration, request id', async () => {
    lines.length = 0
    await ctx.request('GET', '/livez?verbose=1', { headers: { 'x-request-id': 'log-test-1' } })
    await ctx.request('GET', '/nope')
    await ctx.request('DELETE', '/users/')
    await logged(3)
    const log = entries()
    expect(log).toHaveLength(3)
    expect(log[0]).toEqual({
      time: expect.stringMatching(/Z$/),
      level: 'info',
      msg: 'request',
      method: 'GET',
      path: '/livez',
      status: 200,
      duration_ms: expect.any(Number),
      request_id: 'log-test-1',
    })
    expect(log.slice(1).map((e) => [e.path, e.status])).toEqual([
      ['/nope', 404],
      ['/users/', 405],
    ])
    expect(log[1].request_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('passwords, hashes and bodies never reach the log, on success or on error', async () => {
    lines.length = 0
    const password = `pw-${crypto.randomUUID()}`
    const user = await ctx.createUser({ email: uniqueEmail(), password })
    await ctx.request('POST', '/users/', { json: { email: user.email, password } })
    await ctx.request('POST', '/users/', { json: { email: 'bad', password } })
    await ctx.request('PATCH', `/users/${user.id}`, { json: { password: `${password}-new` } })
    await ctx.request('POST', '/users/', {
      body: `{"password":"${password}"`,
      headers: { 'content-type': 'application/json' },
    })
    await logged(5)
    const text = lines.join('\n')
    expect(lines).toHaveLength(5)
    expect(text).not.toContain(password)
    expect(text).not.toContain('$argon2id$')
    expect(text).not.toContain(user.email)
    expect(entries().map((e) => e.status)).toEqual([201, 409, 422, 200, 400])
  })
})
