// What most test files need: the real app over the run's database, a request helper, and
// cleanup of exactly the rows the file created.
import { createApp } from '../../src/app'
import { type Config, loadConfig } from '../../src/config'
import { createSql } from '../../src/db/client'
import { createLogger, type Logger } from '../../src/logger'
import type { PasswordHasher } from '../../src/security/passwords'

export const databaseUrl = (): string => {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `bun test` (see bunfig.toml)')
  return url
}

export const silentLogger = createLogger({ level: 'silent', json: false })

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: databaseUrl(), LOG_LEVEL: 'silent', ...env })
}

/** A unique email, so files and runs never collide in a shared database. */
export const uniqueEmail = (tag = 'user') => `${tag}-${crypto.randomUUID()}@example.com`

export interface TestResponse<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

export interface RequestOptions {
  json?: unknown
  body?: string
  headers?: Record<string, string>
}

export interface TestContextOptions {
  env?: Record<string, string>
  /** Default: the run's test database. */
  url?: string
  logger?: Logger
  passwords?: (config: Config) => PasswordHasher
}

export function createTestContext(options: TestContextOptions = {}) {
  const url = options.url ?? databaseUrl()
  const config = testConfig({ DATABASE_URL: url, ...options.env })
  const sql = createSql(url, config.database, silentLogger)
  const app = createApp({ sql, config, logger: options.logger, passwords: options.passwords?.(config) })
  const userIds = new Set<number>()

  async function request<T = any>(method: string, path: string, init: RequestOptions = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...init.headers }
    let body = init.body
    if (init.json !== undefined) {
      body = JSON.stringify(init.json)
      headers['content-type'] ??= 'application/json'
    }
    const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
    const text = await response.text()
    let parsed: unknown = text
    if (response.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text)
    if (method === 'POST' && /^\/users\/?$/.test(path) && response.status === 201)
      userIds.add((parsed as { id: number }).id)
    return { status: response.status, headers: response.headers, body: parsed as T, text }
  }

  return {
    app,
    sql,
    config,
    request,
    /** Creates a user through the API and returns it. */
    async createUser(fields: { email?: string; password?: string } = {}) {
      const response = await request('POST', '/users/', {
        json: { email: fields.email ?? uniqueEmail(), password: fields.password ?? 'correct horse battery' },
      })
      if (response.status !== 201) throw new Error(`creating a user answered ${response.status}: ${response.text}`)
      return response.body as { id: number; email: string; is_active: boolean; created_at: string; items: any[] }
    },
    /** Remembers a user made some other way, so `cleanup` deletes it too. */
    track(id: number) {
      userIds.add(id)
    },
    /** Deletes the users this file made (their items go with them) and closes the pool. */
    async cleanup() {
      if (userIds.size) await sql`delete from users where id in ${sql([...userIds])}`
      await sql.end({ timeout: 5 })
    },
  }
}

export type TestContext = ReturnType<typeof createTestContext>
