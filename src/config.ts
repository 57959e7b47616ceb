// Every setting the service reads, parsed and checked in one place. A bad value stops the service
// at start with a message naming the variable; secrets (DATABASE_URL) are never echoed back.
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import type { LogLevel } from './logger'

export interface DatabaseConfig {
  /** Unset (development only): the embedded PostgreSQL under `dataDir` is started. */
  url: string | undefined
  /** What migrations connect to; defaults to `url`. */
  migrationUrl: string | undefined
  poolMax: number
  connectTimeoutSeconds: number
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
  queueMax: number
  queueTimeoutMs: number
}

export interface Config {
  env: 'production' | 'development'
  host: string
  port: number
  logLevel: LogLevel
  maxBodyBytes: number
  idleTimeoutSeconds: number
  drainSeconds: number
  shutdownTimeoutSeconds: number
  dataDir: string
  database: DatabaseConfig
  passwordHash: PasswordHashConfig
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
  const url = read.databaseUrl('DATABASE_URL')

  const config: Config = {
    env: production ? 'production' : 'development',
    host: read.host('HOST', '127.0.0.1'),
    port: read.int('PORT', 3000, 0, 65535),
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    maxBodyBytes: read.int('MAX_BODY_BYTES', MiB, 1, 64 * MiB),
    idleTimeoutSeconds: read.int('IDLE_TIMEOUT_SECONDS', 30, 1, 255),
    drainSeconds: read.int('SHUTDOWN_DRAIN_SECONDS', production ? 5 : 0, 0, 300),
    shutdownTimeoutSeconds: read.int('SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600),
    dataDir: resolve(cwd, read.raw('DATA_DIR') ?? '.data'),
    database: {
      url,
      migrationUrl: read.databaseUrl('DATABASE_MIGRATION_URL') ?? url,
      poolMax: read.int('DATABASE_POOL_MAX', 10, 1, 1000),
      connectTimeoutSeconds: read.int('DATABASE_CONNECT_TIMEOUT_SECONDS', 5, 1, 300),
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
      concurrency: read.int('PASSWORD_HASH_CONCURRENCY', 2 * cpus, 1, 1024),
      queueMax: read.int('PASSWORD_HASH_QUEUE_MAX', 64, 0, 100_000),
      queueTimeoutMs: read.int('PASSWORD_HASH_QUEUE_TIMEOUT_MS', 3000, 1, 60_000),
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
