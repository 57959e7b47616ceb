// Clients that lie about their bodies, or hold connections open doing nothing, get a clean 4xx
// or are left waiting alone: never a 5xx, never a service too busy to say it is ready.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { databaseUrl } from '../support/context'
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
