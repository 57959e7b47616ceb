// What most test files need: the real app over the run's database, a request helper, accounts with
// tokens, and cleanup of exactly the rows the file created.
import { createApp } from '../../src/app'
import { type Config, loadConfig } from '../../src/config'
import { createSql } from '../../src/db/client'
import { createDatabase } from '../../src/db/database'
import { withPeer } from '../../src/http/client-address'
import { createLogger, type Logger } from '../../src/logger'
import { createSessionsRepository, newRefreshToken } from '../../src/modules/sessions/repository'
import type { PasswordHasher } from '../../src/security/passwords'
import { createTokenService } from '../../src/security/tokens'

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

/** A client address of its own, so one test's failed logins never throttle another's. */
export const uniqueAddress = () =>
  `10.${Array.from(crypto.getRandomValues(new Uint8Array(3)))
    .map((byte) => byte % 250)
    .join('.')}`

export const DEFAULT_PASSWORD = 'correct horse battery'

export interface TestResponse<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

export interface RequestOptions {
  json?: unknown
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>
  body?: string
  headers?: Record<string, string>
  /** An access token, sent as `Authorization: Bearer <token>`. */
  token?: string
  /** The socket address the request comes from (default: the context's own). */
  peer?: string
}

export interface TestContextOptions {
  env?: Record<string, string>
  /** Default: the run's test database. */
  url?: string
  logger?: Logger
  passwords?: (config: Config) => PasswordHasher
}

export interface TestUser {
  id: number
  email: string
  password: string
  is_superuser: boolean
}

/** A signed-in account: its token, as the API answered it, and what it takes to send it. */
export interface Account extends TestUser {
  token: string
  refreshToken: string
  sessionId: string
}

export function createTestContext(options: TestContextOptions = {}) {
  const url = options.url ?? databaseUrl()
  const config = testConfig({ DATABASE_URL: url, ...options.env })
  const sql = createSql(url, config.database, silentLogger)
  const tokens = createTokenService(config.auth)
  const app = createApp({ sql, config, logger: options.logger, passwords: options.passwords?.(config), tokens })
  const sessions = createSessionsRepository(createDatabase(sql, config.database), {
    lifetimeDays: config.auth.refreshTokenDays,
  })
  const peer = uniqueAddress()
  const peers = new Set([peer])
  const userIds = new Set<number>()
  // One argon2id hash per password, with the configured cost: accounts made here can log in for real.
  const hashes = new Map<string, Promise<string>>()
  const hashOf = (password: string) => {
    if (!hashes.has(password)) {
      const { memoryKib, timeCost } = config.passwordHash
      hashes.set(password, Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: memoryKib, timeCost }))
    }
    return hashes.get(password)!
  }

  async function request<T = any>(method: string, path: string, init: RequestOptions = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...init.headers }
    let body = init.body
    if (init.json !== undefined) {
      body = JSON.stringify(init.json)
      headers['content-type'] ??= 'application/json'
    }
    if (init.form !== undefined) {
      body = new URLSearchParams(init.form).toString()
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
    }
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
    if (init.peer) peers.add(init.peer)
    const sent = withPeer(new Request(`http://localhost${path}`, { method, headers, body }), init.peer ?? peer)
    const response = await app.handle(sent)
    const text = await response.text()
    let parsed: unknown = text
    if (response.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text)
    if (method === 'POST' && /^\/users\/(signup)?$/.test(path) && response.status === 201)
      userIds.add((parsed as { id: number }).id)
    return { status: response.status, headers: response.headers, body: parsed as T, text }
  }

  /** An account made directly in the table (no API call, no hashing per account). */
  async function createUser(
    fields: { email?: string; password?: string; superuser?: boolean; active?: boolean; fullName?: string } = {},
  ): Promise<TestUser> {
    const password = fields.password ?? DEFAULT_PASSWORD
    const [row] = await sql<[{ id: string; email: string }]>`
      insert into users (email, hashed_password, is_superuser, is_active, full_name)
      values (${fields.email ?? uniqueEmail()}, ${await hashOf(password)}, ${fields.superuser ?? false},
              ${fields.active ?? true}, ${fields.fullName ?? null})
      returning id, email
    `
    userIds.add(Number(row.id))
    return { id: Number(row.id), email: row.email, password, is_superuser: fields.superuser ?? false }
  }

  /** A session for the user and an access token for it, as a login would give, without the password check. */
  async function signIn(user: TestUser): Promise<Account> {
    const refresh = newRefreshToken()
    const [row] = await sql<[{ hashed_password: string }?]>`select hashed_password from users where id = ${user.id}`
    const origin = { userAgent: 'test', clientAddress: peer }
    const sessionId = row && (await sessions.start(String(user.id), row.hashed_password, refresh, origin))
    if (!sessionId) throw new Error(`user ${user.id} cannot sign in: it is gone or inactive`)
    const { token } = await tokens.issue({ userId: String(user.id), sessionId })
    return { ...user, token, refreshToken: refresh.token, sessionId }
  }

  return {
    app,
    sql,
    config,
    tokens,
    peer,
    request,
    createUser,
    signIn,
    /** A new account, signed in. */
    async account(fields: Parameters<typeof createUser>[0] = {}): Promise<Account> {
      return signIn(await createUser(fields))
    },
    /** Logs in through the API (the OAuth2 form), as a client would. */
    login(email: string, password: string, init: RequestOptions = {}) {
      return request('POST', '/login/access-token', { ...init, form: { username: email, password } })
    },
    /** Remembers a user made some other way, so `cleanup` deletes it too. */
    track(id: number) {
      userIds.add(id)
    },
    /** Deletes the users this file made (their items and sessions go with them), its login attempts, and closes the pool. */
    async cleanup() {
      if (userIds.size) await sql`delete from users where id in ${sql([...userIds])}`
      await sql`delete from login_attempts where client_address in ${sql([...peers])}`
      await sql.end({ timeout: 5 })
    },
  }
}

export type TestContext = ReturnType<typeof createTestContext>
