// MAX_INFLIGHT: past that many requests in flight, a request is 503 `overloaded` with Retry-After
// at once, before any work; the probes still answer; once the load passes, requests are served.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/logger'
import { type Account, createTestContext } from '../support/context'
import { exclusivelyLocked, serviceQueriesWaitingForLock } from '../support/locks'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'
import { waitFor } from '../support/wait'

let scratch: ScratchDatabase
let ctx: ReturnType<typeof createTestContext>
let account: Account
const lines: string[] = []
const ORIGIN = 'https://app.example'
beforeAll(async () => {
  // Its own database: the test holds a table lock that would stall every other file.
  scratch = await createScratchDatabase({ migrated: true })
  ctx = createTestContext({
    url: scratch.url,
    env: { MAX_INFLIGHT: '2', CORS_ORIGINS: ORIGIN },
    logger: createLogger({ level: 'info', json: true, write: (line) => lines.push(line) }),
  })
  account = await ctx.account()
})
afterAll(async () => {
  await ctx?.cleanup()
  await scratch?.drop()
})

describe('MAX_INFLIGHT', () => {
  test('a request beyond the bound is refused at once; probes answer; the bound frees as requests end', async () => {
    const released = Promise.withResolvers<void>()
    const lock = ctx.sql.begin(async (tx) => {
      await tx`lock table items in access exclusive mode`
      await released.promise
    })
    await waitFor('the lock', () => exclusivelyLocked(ctx.sql, 'items'))
    const held = [1, 2].map(() => ctx.request('GET', '/items/', { token: account.token }))
    try {
      await waitFor(
        'both requests to wait on the lock',
        async () => (await serviceQueriesWaitingForLock(ctx.sql)) === 2,
      )

      const started = performance.now()
      const refused = await ctx.request('GET', '/items/', { token: account.token })
      expect(performance.now() - started).toBeLessThan(100)
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(refused.body).toEqual({ detail: 'The service is at capacity, try again', code: 'overloaded' })
      expect(refused.headers.get('x-request-id')).toBeString()
      expect(refused.headers.get('x-content-type-options')).toBe('nosniff')
      expect(refused.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
      // A browser on an allowed origin can read the refusal; its preflights are not refused.
      const fromBrowser = await ctx.request('GET', '/items/', { token: account.token, headers: { origin: ORIGIN } })
      expect(fromBrowser.status).toBe(503)
      expect(fromBrowser.headers.get('access-control-allow-origin')).toBe(ORIGIN)
      expect(fromBrowser.headers.get('access-control-expose-headers')).toContain('retry-after')
      const elsewhere = await ctx.request('GET', '/items/', { headers: { origin: 'https://evil.example' } })
      expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await ctx.request('OPTIONS', '/items/', {
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      })
      expect(preflight.status).toBe(204)
      // Refused before any work: not even the token was looked at.
      expect((await ctx.request('POST', '/items/', { json: { title: 'shed' } })).status).toBe(503)
      for (const probe of ['/livez', '/readyz', '/livez/', '/readyz/'])
        expect({ probe, status: (await ctx.request('GET', probe)).status }).toEqual({ probe, status: 200 })
      // Refusals are counted in one line a second, not logged one by one: overload is no time to log more.
      await waitFor('the refusals to be reported', () => lines.some((line) => line.includes('over MAX_INFLIGHT')))
      const reported = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg.includes('MAX_INFLIGHT'))
      expect(reported).toEqual([expect.objectContaining({ level: 'warn', refused: 4, max_inflight: 2 })])
      expect(lines.some((line) => line.includes('"status":503'))).toBe(false)
    } finally {
      released.resolve()
      await lock
    }
    expect((await Promise.all(held)).map((res) => res.status)).toEqual([200, 200])
    expect((await ctx.request('GET', '/items/', { token: account.token })).status).toBe(200)
  })
})
