// Configuration is read in one place, with documented defaults, and every setting is listed in
// .env.example.
import { describe, expect, test } from 'bun:test'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig, refuseEmbeddedInProduction, refuseWeakKeysInProduction } from '../../src/config'

const KEY = 'k'.repeat(32)

/** The problems loadConfig, then the service's own key check, report for `env`, or none. */
const problemsOf = (env: Record<string, string>) => {
  try {
    refuseWeakKeysInProduction(loadConfig(env))
    return []
  } catch (error) {
    return (error as ConfigError).problems
  }
}

describe('loadConfig', () => {
  test('defaults: development, 127.0.0.1:3000, 1 MiB bodies, OWASP argon2id, no drain window', () => {
    const config = loadConfig({}, '/srv/app')
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      maxBodyBytes: 1_048_576,
      drainSeconds: 0,
      dataDir: '/srv/app/.data',
      database: { url: undefined, migrationUrl: undefined, poolMax: 10, prepare: true },
      passwordHash: {
        memoryKib: 19_456,
        timeCost: 2,
        concurrency: Math.max(1, Math.floor(availableParallelism() / 2)),
      },
    })
  })

  test('production turns on a drain window; empty values mean the default', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: KEY,
      PORT: '',
      DATABASE_PREPARE: 'false',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
    })
    expect(config.env).toBe('production')
    expect(config.drainSeconds).toBe(5)
    expect(config.port).toBe(3000)
    expect(config.database.prepare).toBe(false)
    expect(config.database.migrationUrl).toBe('postgres://u:p@db:5432/app')
  })

  test('where the embedded PostgreSQL would start, production refuses instead, naming the setting', () => {
    const refused = (env: Record<string, string>, setting: string) => {
      try {
        refuseEmbeddedInProduction(loadConfig(env), setting)
        return []
      } catch (error) {
        return (error as ConfigError).problems
      }
    }
    expect(refused({ NODE_ENV: 'production', SECRET_KEY: KEY }, 'DATABASE_URL')).toEqual([
      'DATABASE_URL must be set when NODE_ENV=production (the embedded PostgreSQL is for development only)',
    ])
    expect(refused({ NODE_ENV: 'production', SECRET_KEY: KEY, DATABASE_URL: '' }, 'DATABASE_URL')).toHaveLength(1)
    expect(refused({}, 'DATABASE_URL')).toEqual([])
    expect(refused({ NODE_ENV: 'development' }, 'DATABASE_URL')).toEqual([])
  })

  test('WORKERS: a number of processes, or auto for one per CPU', () => {
    expect(loadConfig({}).workers).toBe(1)
    expect(loadConfig({ WORKERS: '3' }).workers).toBe(3)
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(availableParallelism())
    expect(problemsOf({ WORKERS: '0' })).toEqual(['WORKERS must be a whole number from 1 to 64 (got "0")'])
    // Hashing's share of the cores is split between the workers.
    expect(loadConfig({ WORKERS: '2' }).passwordHash.concurrency).toBe(
      Math.max(1, Math.floor(availableParallelism() / 4)),
    )
  })

  test('DATABASE_MIGRATION_URL overrides where migrations connect', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@pgbouncer:6432/app',
      DATABASE_MIGRATION_URL: 'postgres://u:p@primary:5432/app',
    })
    expect(config.database.migrationUrl).toBe('postgres://u:p@primary:5432/app')
  })

  test('every problem is reported at once, each naming its setting', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'x', LOG_LEVEL: 'chatty', DATABASE_URL: 'http://user:pw@host/db' })
      } catch (e) {
        return e
      }
    })() as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.problems).toHaveLength(3)
    expect(error.message).toContain('PORT')
    expect(error.message).toContain('LOG_LEVEL')
    expect(error.message).toContain('DATABASE_URL')
    expect(error.message).not.toContain('pw@')
  })
})

describe('authentication settings', () => {
  test('defaults: 15-minute access tokens, 30-day sessions, open registration, no trusted proxies', () => {
    const { auth } = loadConfig({})
    expect(auth).toMatchObject({
      accessTokenMinutes: 15,
      refreshTokenDays: 30,
      openRegistration: true,
      firstSuperuser: undefined,
      trustedProxies: [],
      loginThrottle: { perEmailAndAddress: 5, perAddress: 100, windowSeconds: 900 },
    })
  })

  test('without SECRET_KEY, development makes a random 32-byte key per start; the service refuses to start in production', () => {
    const a = loadConfig({}).auth
    const b = loadConfig({}).auth
    expect(a.generatedKey).toBe(true)
    expect(a.secretKeys).toHaveLength(1)
    expect(a.secretKeys[0]!.byteLength).toBe(43) // 32 random bytes, as base64url text
    expect(Buffer.from(a.secretKeys[0]!).equals(Buffer.from(b.secretKeys[0]!))).toBe(false)
    expect(problemsOf({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/app' })).toEqual([
      'SECRET_KEY must be set when NODE_ENV=production (at least 32 bytes)',
    ])
    // What needs no key (the db:* commands) still loads its configuration.
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/app' }).auth.generatedKey).toBe(true)
  })

  test('SECRET_KEY holds keys for rotation, comma-separated, as UTF-8 bytes; in production each is at least 32 bytes, never echoed', () => {
    const { auth } = loadConfig({ SECRET_KEY: ` ${KEY}, old-key-é ` })
    expect(auth.generatedKey).toBe(false)
    expect(auth.secretKeys.map((key) => new TextDecoder().decode(key))).toEqual([KEY, 'old-key-é'])
    const problems = problemsOf({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@db/app',
      SECRET_KEY: `${KEY},short-secret`,
    })
    expect(problems).toEqual(["SECRET_KEY's key #2 must be at least 32 bytes (got 12)"])
    expect(problems.join()).not.toContain('short-secret')
  })

  test('TRUSTED_PROXIES takes IP addresses and ranges only, naming what it refuses', () => {
    expect(problemsOf({ TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8, 192.0.2.1' })).toEqual([])
    expect(problemsOf({ TRUSTED_PROXIES: '10.0.0.1, proxy.internal, 10.0.0.0/33' })).toEqual([
      'TRUSTED_PROXIES must list IP addresses or ranges like 10.0.0.0/8 (not: proxy.internal, 10.0.0.0/33)',
    ])
  })

  test('the first superuser needs both settings; trusted proxies are a list', () => {
    expect(problemsOf({ FIRST_SUPERUSER_EMAIL: 'root@example.com' })).toEqual([
      'FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together',
    ])
    const { auth } = loadConfig({
      FIRST_SUPERUSER_EMAIL: 'root@example.com',
      FIRST_SUPERUSER_PASSWORD: 'a long secret',
      TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
      USERS_OPEN_REGISTRATION: 'false',
      ACCESS_TOKEN_EXPIRE_MINUTES: '5',
    })
    expect(auth).toMatchObject({
      firstSuperuser: { email: 'root@example.com', password: 'a long secret' },
      trustedProxies: ['10.0.0.1', '10.0.0.2'],
      openRegistration: false,
      accessTokenMinutes: 5,
    })
  })
})

test('.env.example lists every setting config.ts reads', async () => {
  const source = await Bun.file(join(import.meta.dir, '..', '..', 'src', 'config.ts')).text()
  const read = [...source.matchAll(/read\.\w+\('([A-Z_]+)'/g)].map((m) => m[1]!)
  expect(read.length).toBeGreaterThan(20)
  const example = await Bun.file(join(import.meta.dir, '..', '..', '.env.example')).text()
  const listed = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]))
  expect(read.filter((name) => !listed.has(name))).toEqual([])
})
