// Clients that send garbage, lie about their bodies, trickle them, or hold connections open doing
// nothing get a clean 4xx or are cut off: never a 5xx, never a service too busy to say it is ready,
// never memory taken for a body that is refused.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { databaseUrl } from '../support/context'
import { report } from '../support/resilience-report'
import { type RunningService, rawHttp, spawnService } from '../support/service'

setDefaultTimeout(60_000)

let service: RunningService
beforeAll(async () => {
  service = await spawnService({ env: { DATABASE_URL: databaseUrl() } })
})
afterAll(async () => {
  service?.process.kill('SIGTERM')
  await service?.exited
})

/** Every status line of a raw answer, in order. */
const statuses = (answer: string) => [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]))

describe('Content-Length that lies', () => {
  const host = () => new URL(service.url).host
  const post = (headers: string, body: string) =>
    `POST /users/signup HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n${headers}\r\n${body}`

  test('shorter than the body: the cut JSON is 400, and the rest is no request of its own to crash on', async () => {
    const body = '{"email":"liar@example.com","password":"correct horse battery"}'
    const answer = await rawHttp(service.url, post('Content-Length: 10\r\nConnection: close\r\n', body))
    const [first, ...rest] = statuses(answer)
    expect(first).toBe(400)
    for (const status of rest) expect(status).toBeLessThan(500)
    expect(answer).toContain('"code":"malformed_body"')
  })

  // Framing the HTTP parser cannot trust is refused by Bun itself, before the app: an empty 400
  // that closes the connection (no JSON body: the request never reaches the error handler).
  test('not a number, negative, twice, or beside Transfer-Encoding: 400 and closed, never 5xx', async () => {
    for (const headers of [
      'Content-Length: ten\r\n',
      'Content-Length: -5\r\n',
      'Content-Length: 5\r\nContent-Length: 6\r\n',
      'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n',
    ]) {
      const answer = await rawHttp(service.url, post(headers, '{}'))
      expect(statuses(answer)).toEqual([400])
      expect(answer).toContain('Connection: close')
    }
  })
})

describe('idle connections', () => {
  test('500 connections that send nothing leave /readyz answering at once', async () => {
    const { hostname, port } = new URL(service.url)
    const idle = await Promise.all(
      Array.from({ length: 500 }, () =>
        Bun.connect({ hostname, port: Number(port), socket: { data() {}, error() {} } }),
      ),
    )
    try {
      const started = performance.now()
      const ready = await fetch(`${service.url}/readyz`)
      expect(ready.status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1000)
    } finally {
      for (const socket of idle) socket.end()
    }
  })
})

/** A process's resident memory now and at its peak since the last reset, in MiB, from /proc. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))![1])
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

/** Starts measuring a process's peak memory afresh (Linux: writing 5 to clear_refs resets VmHWM). */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5')

describe('malformed bodies', () => {
  const post = (
    body: string | Uint8Array | ReadableStream<Uint8Array>,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => fetch(`${service.url}/users/signup`, { method: 'POST', headers, body })

  test('the wrong media type is 415, bytes that are not UTF-8 are 400, JSON nested 100,000 deep is 422', async () => {
    const typed = await post('{"email":"a@b.co","password":"long enough"}', { 'content-type': 'text/plain' })
    expect(typed.status).toBe(415)
    expect(((await typed.json()) as { code: string }).code).toBe('unsupported_media_type')

    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"email":"a@b.co","password":"'),
      0xff,
      0xfe,
      0x22,
      0x7d,
    ])
    const notUtf8 = await post(bytes)
    expect(notUtf8.status).toBe(400)
    expect(((await notUtf8.json()) as { code: string }).code).toBe('malformed_body')

    const started = performance.now()
    const deep = await post(`{"email":"a@b.co","password":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)
    expect(deep.status).toBe(422)
    expect(performance.now() - started).toBeLessThan(2000)
    expect((await fetch(`${service.url}/livez`)).status).toBe(200)
  })

  test('a 16 MiB body is 413, announced or streamed, and the service does not take the memory for it', async () => {
    const pid = service.process.pid
    resetPeak(pid)
    const before = memoryMiB(pid)
    const big = new Uint8Array(16 * 1024 * 1024).fill(0x20)
    // Four of each: were the bodies kept, the peak would grow by at least one of them (16 MiB).
    for (let round = 0; round < 4; round++) {
      const announced = await post(big)
      expect(announced.status).toBe(413)
      expect(((await announced.json()) as { code: string }).code).toBe('body_too_large')
      // Without a length, in chunks: refused once past MAX_BODY_BYTES, not after reading it all.
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 16; i++) controller.enqueue(big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))
          controller.close()
        },
      })
      const streamed = await post(chunks)
      expect(streamed.status).toBe(413)
      await streamed.text()
    }
    // The peak, not just the end: a body buffered and then collected would show there.
    const after = memoryMiB(pid)
    report('Malformed input (test/resilience/abuse.test.ts)', {
      case: '16 MiB bodies, 4 announced and 4 streamed',
      status: 413,
      'RSS before, MiB': Math.round(before.rss),
      'peak RSS during, MiB': Math.round(after.peak),
    })
    expect(after.peak - before.rss).toBeLessThan(16)
  })

  test('a body sent a byte a second is cut off within IDLE_TIMEOUT_SECONDS', async () => {
    // The shortest idle timeout the other deadlines allow (checked at start).
    const slow = await spawnService({
      env: {
        DATABASE_URL: databaseUrl(),
        IDLE_TIMEOUT_SECONDS: '8',
        PASSWORD_HASH_QUEUE_TIMEOUT_MS: '500',
        DATABASE_QUEUE_TIMEOUT_MS: '500',
        DATABASE_QUERY_TIMEOUT_MS: '1000',
      },
    })
    try {
      const { hostname, port } = new URL(slow.url)
      let closedAt = 0
      const started = performance.now()
      const socket = await Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          data() {},
          close() {
            closedAt = performance.now()
          },
          error() {},
        },
      })
      socket.write(
        'POST /users/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
      )
      for (let i = 0; i < 15 && closedAt === 0; i++) {
        socket.write('{')
        await Bun.sleep(1000)
      }
      socket.end()
      expect(closedAt).toBeGreaterThan(0)
      expect(closedAt - started).toBeLessThan(9000)
      const ready = await fetch(`${slow.url}/readyz`)
      expect(ready.status).toBe(200)
    } finally {
      slow.process.kill('SIGTERM')
      await slow.exited
    }
  })
})
