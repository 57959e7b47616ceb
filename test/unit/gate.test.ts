// The gate in front of the pool (and of password hashing): at most `permits` tasks run, a bounded
// number wait for a bounded time, the rest are refused as busy (what a refusal looks like over HTTP is in error-handler.test.ts).
import { describe, expect, test } from 'bun:test'
import { UnavailableError } from '../../src/errors'
import { Gate } from '../../src/gate'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('Gate', () => {
  test('runs at most `permits` tasks at once, in arrival order', async () => {
    const gate = new Gate({
      permits: 2,
      maxWaiting: 10,
      maxWaitMs: 1000,
      busy: { code: 'database_busy', message: 'busy' },
    })
    let running = 0
    let peak = 0
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        gate.run(async () => {
          running++
          peak = Math.max(peak, running)
          order.push(i)
          await Bun.sleep(5)
          running--
        }),
      ),
    )
    expect(peak).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(gate.inFlight).toBe(0)
  })

  test('a full wait list refuses at once; a wait past maxWaitMs refuses; both are UnavailableError with a retry hint', async () => {
    const gate = new Gate({
      permits: 1,
      maxWaiting: 1,
      maxWaitMs: 100,
      busy: { code: 'database_busy', message: 'Database busy, try again' },
    })
    const hold = deferred()
    const first = gate.run(() => hold.promise)
    const started = performance.now()
    const waiting = gate.run(async () => 'never').catch((e) => [e, performance.now() - started] as const)
    const refused = await gate.run(async () => 'never').catch((e) => e)
    expect(refused).toBeInstanceOf(UnavailableError)
    expect(refused).toMatchObject({ code: 'database_busy', message: 'Database busy, try again', retryAfterSeconds: 1 })
    expect(gate.waiting).toBe(1)

    const [timedOut, after] = await waiting
    expect(timedOut).toBeInstanceOf(UnavailableError)
    expect(timedOut).toMatchObject({ code: 'database_busy', retryAfterSeconds: 1 })
    expect(after).toBeGreaterThanOrEqual(90)
    expect(gate.waiting).toBe(0)
    hold.resolve()
    await first
    expect(gate.inFlight).toBe(0)
  })

  test('runIfFree never waits', async () => {
    const gate = new Gate({
      permits: 1,
      maxWaiting: 5,
      maxWaitMs: 1000,
      busy: { code: 'database_busy', message: 'busy' },
    })
    const hold = deferred()
    const first = gate.run(() => hold.promise)
    expect(await gate.runIfFree(async () => 'ran')).toBeUndefined()
    hold.resolve()
    await first
    expect(await gate.runIfFree(async () => 'ran')).toBe('ran')
  })

  test('a failing task gives its permit back', async () => {
    const gate = new Gate({
      permits: 1,
      maxWaiting: 0,
      maxWaitMs: 10,
      busy: { code: 'database_busy', message: 'busy' },
    })
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await gate.run(async () => 'ok')).toBe('ok')
  })
})
