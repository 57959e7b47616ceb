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

  test('passwords, hashes, tokens and bodies never reach the log, on success or on error', async () => {
    lines.length = 0
    const password = `pw-${crypto.randomUUID()}`
    const user = await ctx.createUser({ email: uniqueEmail(), password })
    const secrets: string[] = [password, user.email]
    const expected: number[] = []
    const send = async (status: Promise<{ status: number }>) => expected.push((await status).status)

    await send(ctx.request('POST', '/users/signup', { json: { email: user.email, password } }))
    await send(ctx.request('POST', '/users/signup', { json: { email: 'bad', password } }))
    await send(ctx.login(user.email, `${password}-wrong`))
    const login = await ctx.login(user.email, password)
    expected.push(login.status)
    const { access_token, refresh_token } = login.body
    secrets.push(access_token, refresh_token)
    await send(
      ctx.request('PATCH', '/users/me/password', {
        token: access_token,
        json: { current_password: password, new_password: `${password}-new` },
      }),
    )
    const refreshed = await ctx.request('POST', '/login/refresh', { json: { refresh_token } })
    expected.push(refreshed.status)
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token, `${password}-new`)
    await send(ctx.request('POST', '/login/refresh', { json: { refresh_token } }))
    await send(ctx.request('GET', '/users/me', { token: `${access_token}x` }))
    await send(
      ctx.request('POST', '/users/signup', {
        body: `{"password":"${password}"`,
        headers: { 'content-type': 'application/json' },
      }),
    )
    await logged(expected.length)
    const text = lines.join('\n')
    expect(lines).toHaveLength(expected.length)
    expect(entries().map((e) => e.status)).toEqual([409, 422, 400, 200, 200, 200, 401, 401, 400])
    for (const secret of secrets) expect(text).not.toContain(secret)
    expect(text).not.toContain('$argon2id$')
    const [row] = await ctx.sql`select hashed_password from users where id = ${user.id}`
    expect(text).not.toContain(row!.hashed_password)
  })
})
