// Every setting the service reads, parsed and checked in one place. A bad value stops the service
// at start with a message naming the variable; secrets (DATABASE_URL) are never echoed back.
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { addressMatcher } from './addresses'
import type { LogLevel } from './logger'

export interface DatabaseConfig {
  /** Unset (development only): the embedded PostgreSQL under `dataDir` is started. */
  url: string | undefined
  /** What migrations connect to; defaults to `url`. */
  migrationUrl: string | undefined
  poolMax: number
  connectTimeoutSeconds: number
  /** How long the service waits at start for the database to answer with every migration applied. */
  startTimeoutSeconds: number
  idleTimeoutSeconds: number
  statementTimeoutMs: number
  /** Client-side deadline once a query has its connection; 0: none. */
  queryTimeoutMs: number
  /** false behind PgBouncer in transaction mode. */
  prepare: boolean
  queueMax: number
  queueTimeoutMs: number
}

export interface PasswordHashConfig {
  memoryKib: number
  timeCost: number
  concurrency: number
  /** The hashing threads' nice value (0-19): logins get the cores only when requests leave them idle. */
  nice: number
  queueMax: number
  queueTimeoutMs: number
}

export interface AuthConfig {
  /** HMAC keys (UTF-8 bytes of SECRET_KEY's comma-separated entries): the first signs, any verifies. */
  secretKeys: Uint8Array[]
  /** True when SECRET_KEY was unset (development): a random key, so tokens die with the process. */
  generatedKey: boolean
  issuer: string
  audience: string
  accessTokenMinutes: number
  refreshTokenDays: number
  openRegistration: boolean
  firstSuperuser: { email: string; password: string } | undefined
  /** Addresses of proxies whose X-Forwarded-For is believed; empty: the socket's address is the client's. */
  trustedProxies: string[]
  loginThrottle: { perEmailAndAddress: number; perAddress: number; windowSeconds: number }
}

/** Bounds on what one user owns, so no account can slow down everyone's reads. */
export interface ItemsConfig {
  /** How many of a user's items its answer embeds (the lowest ids); the rest are paged at /users/{id}/items/. */
  embedMax: number
  /** How many items a user may own; a create past it is refused with 409. */
  maxPerUser: number
}

export interface Config {
  env: 'production' | 'development'
  host: string
  port: number
  /** Processes serving the port (`reusePort`), each with its own pool; 1: this process serves. */
  workers: number
  logLevel: LogLevel
  maxBodyBytes: number
  /** Requests in flight at most; beyond, 503 at once (the probes excepted). 0: no bound. */
  maxInflight: number
  /** Browser origins that may call the API (CORS); `*` for any; empty: none, and OPTIONS is 405. */
  corsOrigins: string[]
  idleTimeoutSeconds: number
  drainSeconds: number
  shutdownTimeoutSeconds: number
  dataDir: string
  database: DatabaseConfig
  passwordHash: PasswordHashConfig
  auth: AuthConfig
  items: ItemsConfig
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

class Reader {
  readonly problems: string[] = []
  constructor(private readonly env: Env) {}

  /** Empty counts as unset, as `.env` templates leave many variables blank. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim()
    return value === '' ? undefined : value
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name)
    if (value === undefined) return fallback
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`)
      return fallback
    }
    return Number(value)
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name)
    if (value === undefined) return fallback
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`)
      return fallback
    }
    return value as T
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase()
    if (value === undefined) return fallback
    if (['true', '1', 'yes', 'on'].includes(value)) return true
    if (['false', '0', 'no', 'off'].includes(value)) return false
    this.problems.push(`${name} must be true or false (got "${value}")`)
    return fallback
  }

  databaseUrl(name: string): string | undefined {
    const value = this.raw(name)
    if (value === undefined) return undefined
    let url: URL | undefined
    try {
      url = new URL(value)
    } catch {
      // The value is not echoed: it usually holds a password.
    }
    if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname) {
      this.problems.push(`${name} must be a postgres://user:password@host:port/database URL`)
      return undefined
    }
    return value
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
  }

  /** A comma-separated list of web origins (`https://app.example.com`, a port allowed, no path), or `*`. */
  origins(name: string): string[] {
    const entries = this.list(name)
    const isOrigin = (entry: string) => {
      if (entry === '*') return true
      try {
        return new URL(entry).origin === entry
      } catch {
        return false
      }
    }
    const invalid = entries.filter((entry) => !isOrigin(entry))
    if (invalid.length > 0) {
      this.problems.push(`${name} must list origins like https://app.example.com, or * (not: ${invalid.join(', ')})`)
    }
    return entries.filter(isOrigin)
  }

  /** A comma-separated list of IP addresses or address/prefix-length ranges. */
  addresses(name: string): string[] {
    const entries = this.list(name)
    const invalid = entries.filter((entry) => addressMatcher(entry) === undefined)
    if (invalid.length > 0) {
      this.problems.push(`${name} must list IP addresses or ranges like 10.0.0.0/8 (not: ${invalid.join(', ')})`)
    }
    return entries
  }

  host(name: string, fallback: string): string {
    const value = this.raw(name)
    if (value === undefined) return fallback
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(value)) {
      this.problems.push(`${name} must be a host name or IP address (got "${value}")`)
      return fallback
    }
    return value
  }
}

const MiB = 1024 * 1024
/** Slack for Bun's coarse idle timer. */
const IDLE_TIMER_TICK_SECONDS = 4

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const read = new Reader(env)
  const mode = read.oneOf('NODE_ENV', 'development', ['development', 'production', 'test'] as const)
  const production = mode === 'production'
  const cpus = availableParallelism()
  const workers = read.raw('WORKERS')?.toLowerCase() === 'auto' ? Math.min(cpus, 64) : read.int('WORKERS', 1, 1, 64)
  const url = read.databaseUrl('DATABASE_URL')

  const config: Config = {
    env: production ? 'production' : 'development',
    host: read.host('HOST', '127.0.0.1'),
    port: read.int('PORT', 3000, 0, 65535),
    workers,
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    maxBodyBytes: read.int('MAX_BODY_BYTES', MiB, 1, 64 * MiB),
    maxInflight: read.int('MAX_INFLIGHT', 128, 0, 100_000),
    corsOrigins: read.origins('CORS_ORIGINS'),
    idleTimeoutSeconds: read.int('IDLE_TIMEOUT_SECONDS', 30, 1, 255),
    drainSeconds: read.int('SHUTDOWN_DRAIN_SECONDS', production ? 5 : 0, 0, 300),
    shutdownTimeoutSeconds: read.int('SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600),
    dataDir: resolve(cwd, read.raw('DATA_DIR') ?? '.data'),
    database: {
      url,
      migrationUrl: read.databaseUrl('DATABASE_MIGRATION_URL') ?? url,
      poolMax: read.int('DATABASE_POOL_MAX', 10, 1, 1000),
      connectTimeoutSeconds: read.int('DATABASE_CONNECT_TIMEOUT_SECONDS', 5, 1, 300),
      startTimeoutSeconds: read.int('DATABASE_START_TIMEOUT_SECONDS', 60, 0, 3600),
      idleTimeoutSeconds: read.int('DATABASE_IDLE_TIMEOUT_SECONDS', 60, 0, 86400),
      statementTimeoutMs: read.int('DATABASE_STATEMENT_TIMEOUT_MS', 5_000, 0, 3_600_000),
      queryTimeoutMs: read.int('DATABASE_QUERY_TIMEOUT_MS', 6_000, 0, 3_600_000),
      prepare: read.bool('DATABASE_PREPARE', true),
      queueMax: read.int('DATABASE_QUEUE_MAX', 1000, 0, 1_000_000),
      queueTimeoutMs: read.int('DATABASE_QUEUE_TIMEOUT_MS', 2000, 1, 60_000),
    },
    passwordHash: {
      // OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
      memoryKib: read.int('PASSWORD_HASH_MEMORY_KIB', 19_456, 19_456, 4 * 1024 * 1024),
      timeCost: read.int('PASSWORD_HASH_TIME_COST', 2, 2, 100),
      // Half the cores, shared by the workers: argon2id takes a whole core per hash, and logins must
      // not starve every other request (measured on 2 cores under the mixed benchmark: reads' p99
      // 296 ms with 4 hashes at once, 50 ms with 1).
      concurrency: read.int('PASSWORD_HASH_CONCURRENCY', Math.max(1, Math.floor(cpus / 2 / workers)), 1, 1024),
      nice: read.int('PASSWORD_HASH_NICE', 19, 0, 19),
      queueMax: read.int('PASSWORD_HASH_QUEUE_MAX', 64, 0, 100_000),
      queueTimeoutMs: read.int('PASSWORD_HASH_QUEUE_TIMEOUT_MS', 3000, 1, 60_000),
    },
    auth: {
      ...secretKeys(read),
      issuer: read.raw('TOKEN_ISSUER') ?? 'users-items-service',
      audience: read.raw('TOKEN_AUDIENCE') ?? 'users-items-service',
      accessTokenMinutes: read.int('ACCESS_TOKEN_EXPIRE_MINUTES', 15, 1, 24 * 60),
      refreshTokenDays: read.int('REFRESH_TOKEN_EXPIRE_DAYS', 30, 1, 365),
      openRegistration: read.bool('USERS_OPEN_REGISTRATION', true),
      firstSuperuser: firstSuperuser(read),
      trustedProxies: read.addresses('TRUSTED_PROXIES'),
      loginThrottle: { perEmailAndAddress: 5, perAddress: 100, windowSeconds: 15 * 60 },
    },
    items: {
      embedMax: read.int('USER_ITEMS_EMBED_MAX', 100, 0, 1000),
      maxPerUser: read.int('MAX_ITEMS_PER_USER', 10_000, 1, 1_000_000_000),
    },
  }
  // Bun closes a connection that stays quiet for IDLE_TIMEOUT_SECONDS, even while its request is
  // still being answered, and its timer is coarse (measured here: a 1 s timeout cut after 0.5 to
  // 0.9 s, a 3 s one after 4 s), so it gets 4 s of slack. What is left must outlast the longest a
  // request may wait (hash queue, pool queue, query deadline, plus a second for the work itself),
  // or clients get a reset instead of a 503.
  const { passwordHash, database } = config
  if (database.queryTimeoutMs > 0) {
    const longestMs = passwordHash.queueTimeoutMs + database.queueTimeoutMs + database.queryTimeoutMs + 1000
    if ((config.idleTimeoutSeconds - IDLE_TIMER_TICK_SECONDS) * 1000 <= longestMs) {
      read.problems.push(
        `IDLE_TIMEOUT_SECONDS (${config.idleTimeoutSeconds}) must exceed the longest a request may wait, plus 4 s for Bun's coarse idle timer: ` +
          `PASSWORD_HASH_QUEUE_TIMEOUT_MS + DATABASE_QUEUE_TIMEOUT_MS + DATABASE_QUERY_TIMEOUT_MS + 1 s + 4 s = ${Math.ceil(longestMs / 1000) + IDLE_TIMER_TICK_SECONDS} s`,
      )
    }
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems)
  return config
}

/** Enough for HS256: a key as long as its hash (RFC 7518, section 3.2). */
const MIN_KEY_BYTES = 32

function secretKeys(read: Reader): Pick<AuthConfig, 'secretKeys' | 'generatedKey'> {
  const keys = read.list('SECRET_KEY').map((key) => new TextEncoder().encode(key))
  if (keys.length > 0) return { secretKeys: keys, generatedKey: false }
  // Text, so that a primary can hand the same key to its workers (WORKERS) in SECRET_KEY.
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(MIN_KEY_BYTES))).toString('base64url')
  return { secretKeys: [new TextEncoder().encode(generated)], generatedKey: true }
}

/**
 * Called where the service would sign tokens: in production a key made up at start (tokens that die
 * with the process, and differ between instances) or a short one is a configuration mistake. The
 * db:* commands sign nothing and need no key.
 */
export function refuseWeakKeysInProduction(config: Config): void {
  if (config.env !== 'production') return
  const { secretKeys, generatedKey } = config.auth
  if (generatedKey) {
    throw new ConfigError([`SECRET_KEY must be set when NODE_ENV=production (at least ${MIN_KEY_BYTES} bytes)`])
  }
  // The keys themselves are never echoed: only which one is short.
  const problems = secretKeys.flatMap((key, index) =>
    key.byteLength < MIN_KEY_BYTES
      ? [`SECRET_KEY's key #${index + 1} must be at least ${MIN_KEY_BYTES} bytes (got ${key.byteLength})`]
      : [],
  )
  if (problems.length > 0) throw new ConfigError(problems)
}

function firstSuperuser(read: Reader): AuthConfig['firstSuperuser'] {
  const email = read.raw('FIRST_SUPERUSER_EMAIL')
  const password = read.raw('FIRST_SUPERUSER_PASSWORD')
  if (email === undefined && password === undefined) return undefined
  if (email === undefined || password === undefined) {
    read.problems.push('FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together')
    return undefined
  }
  if (password.length < 8) read.problems.push('FIRST_SUPERUSER_PASSWORD must be at least 8 characters')
  return { email, password }
}

/**
 * Called where the embedded PostgreSQL would be started for want of a database URL: in production that
 * is a configuration mistake, never a reason to run a local database. `setting` names what to set.
 */
export function refuseEmbeddedInProduction(config: Config, setting: string): void {
  if (config.env === 'production') {
    throw new ConfigError([
      `${setting} must be set when NODE_ENV=production (the embedded PostgreSQL is for development only)`,
    ])
  }
}
