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

describe('standard output', () => {
  // Lines are written once per turn of the event loop; none may be lost or reordered, also when
  // the process exits right after logging, or many lines come in one turn.
  const run = async (code: string) => {
    const proc = Bun.spawn(['bun', '-e', code], { cwd: `${import.meta.dir}/../..`, stdout: 'pipe', stderr: 'pipe' })
    const [out, code_] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    return { lines: out.split('\n').filter(Boolean), code: code_ }
  }
  const logger = `import { createLogger } from './src/logger'; const log = createLogger({ level: 'info', json: true });`

  test('every line arrives, in order, when the process exits at once', async () => {
    const { lines, code } = await run(`${logger} for (let i = 0; i < 3; i++) log.info('line', { i }); process.exit(3)`)
    expect(code).toBe(3)
    expect(lines.map((line) => JSON.parse(line).i)).toEqual([0, 1, 2])
  })

  test('a burst larger than one write arrives whole, in order, across turns', async () => {
    const { lines } = await run(
      `${logger} for (let i = 0; i < 5000; i++) log.info('line', { i, pad: 'x'.repeat(40) }); setTimeout(() => log.info('later', { i: 5000 }), 5)`,
    )
    expect(lines.map((line) => JSON.parse(line).i)).toEqual(Array.from({ length: 5001 }, (_, i) => i))
  })
})
