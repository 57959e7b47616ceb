// The one error mapping, on routes made to fail: an unexpected error never reaches the client,
// and a response that breaks its own schema is a logged 500, not the client's 422.
import { expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { errorHandler } from '../../src/http/error-handler'
import { requestLog } from '../../src/http/request-log'
import { createLogger } from '../../src/logger'

const lines: string[] = []
const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) })
const app = new Elysia()
  .use(requestLog(logger))
  .use(errorHandler({ logger, allowedMethods: () => [] }))
  .get('/throws', () => {
    throw new Error('secret: the connection password is hunter2')
  })
  .get('/breaks-its-schema', () => ({ id: 'not a number' }) as unknown as { id: number }, {
    response: { 200: t.Object({ id: t.Number() }) },
  })

const errors = () => lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'error')

test('an unexpected error is a 500 {"detail":"Internal Server Error"}; its message is logged, never sent', async () => {
  lines.length = 0
  const response = await app.handle(new Request('http://localhost/throws', { headers: { 'x-request-id': 'boom-1' } }))
  expect(response.status).toBe(500)
  const text = await response.text()
  expect(JSON.parse(text)).toEqual({ detail: 'Internal Server Error' })
  expect(text).not.toContain('hunter2')
  expect(errors()).toEqual([
    expect.objectContaining({
      msg: 'unhandled error',
      request_id: 'boom-1',
      message: expect.stringContaining('hunter2'),
    }),
  ])
})

test('a response that fails its schema is a 500 logged with the failing fields only', async () => {
  lines.length = 0
  const response = await app.handle(new Request('http://localhost/breaks-its-schema'))
  expect(response.status).toBe(500)
  expect(await response.json()).toEqual({ detail: 'Internal Server Error' })
  expect(errors()).toEqual([expect.objectContaining({ msg: 'response did not match its schema', fields: ['/id'] })])
  expect(lines.join('\n')).not.toContain('not a number')
})
