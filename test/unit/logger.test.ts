// The logger's formats: short readable lines in development, JSON lines in production (see the
// access-log tests); levels below the setting are dropped.
import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/logger'

describe('log format', () => {
  test('development lines are short and readable; levels below the setting are dropped', () => {
    const out: string[] = []
    const logger = createLogger({ level: 'info', json: false, write: (line) => out.push(line) })
    logger.debug('hidden')
    logger.info('request', { method: 'GET', path: '/livez', status: 200 })
    expect(out).toHaveLength(1)
    expect(out[0]).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}request method=GET path=\/livez status=200$/)
  })
})
