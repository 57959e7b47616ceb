// Entry point: reads the configuration, gets a database (DATABASE_URL, or in development the
// embedded PostgreSQL under ./.data), serves, and shuts down cleanly on SIGINT/SIGTERM.
import type { Sql } from 'postgres'
import { createApp } from './app'
import { type Config, ConfigError, loadConfig, refuseEmbeddedInProduction, refuseWeakKeysInProduction } from './config'
import { createSql } from './db/client'
import { createDatabase } from './db/database'
import { applyMigrations, pendingMigrations } from './db/migrations'
import type { EmbeddedPostgres } from './embedded-postgres'
import { withPeer } from './http/client-address'
import { routable } from './http/routable'
import { createLogger, describeError, type Logger } from './logger'
import { ensureFirstSuperuser } from './modules/users/first-superuser'
import { createUsersRepository } from './modules/users/repository'
import { createPasswordHasher } from './security/passwords'
import { within } from './timing'

/** Bun answers 413 with an empty body past its own limit; ours (MAX_BODY_BYTES, JSON 413) must come first. */
const BUN_BODY_LIMIT = 2 ** 40

async function main(config: Config, logger: Logger) {
  const lifecycle = { draining: false }
  let embedded: Promise<EmbeddedPostgres> | undefined
  let sql: Sql | undefined
  let server: { stop: (force?: boolean) => Promise<unknown> } | undefined
  let stopping: Promise<void> | undefined

  // Whatever has been started so far is stopped, so no cluster is ever orphaned; a cluster still
  // starting is waited for first.
  const stopDatabase = async () => {
    await sql?.end({ timeout: 5 })
    await (await embedded?.catch(() => undefined))?.stop()
  }

  const shutdown = (reason: string, exitCode: number) =>
    (stopping ??= (async () => {
      logger.info('shutting down', { reason, drain_seconds: server ? config.drainSeconds : 0 })
      if (server) {
        // Readiness turns 503 first so load balancers stop routing here; then new connections
        // are refused and in-flight requests finish.
        lifecycle.draining = true
        if (config.drainSeconds > 0) await Bun.sleep(config.drainSeconds * 1000)
        if (!(await within(server.stop(), config.shutdownTimeoutSeconds * 1000)).done) {
          logger.warn('in-flight requests did not finish in time; closing them', {
            timeout_seconds: config.shutdownTimeoutSeconds,
          })
          await server.stop(true)
        }
      }
      await stopDatabase()
      logger.info('stopped')
      process.exit(exitCode)
    })().catch((error) => {
      logger.error('shutdown failed', describeError(error))
      process.exit(1)
    }))
  // Installed before anything starts, so a Ctrl-C during start-up still stops the cluster.
  process.on('SIGINT', () => void shutdown('SIGINT', 0))
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0))
  // A bug that escapes every handler still takes the cluster down with the process.
  const crash = (error: unknown) => {
    logger.error('unexpected error; stopping', describeError(error))
    void shutdown('crash', 1)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)

  try {
    let url = config.database.url
    if (url === undefined) {
      // Loaded only here: with DATABASE_URL (always, in production) the module is never loaded.
      embedded = import('./embedded-postgres').then(({ startEmbeddedPostgres }) =>
        startEmbeddedPostgres({ dataDir: config.dataDir, persistent: true, logger }),
      )
      url = (await embedded).url
      if (stopping) return
      const applied = await applyMigrations(url)
      logger.info(applied.length ? 'migrations applied' : 'database schema is up to date', { applied })
    }
    sql = createSql(url, config.database, logger)
    if (embedded === undefined) {
      const pending = await pendingMigrations(sql)
      if (pending.length > 0)
        throw new Error(`Pending migrations: ${pending.join(', ')}. Run \`bun run db:migrate\` first.`)
    }
    if (stopping) return
    if (config.auth.generatedKey) {
      logger.warn('SECRET_KEY is not set: tokens are signed with a random key and stop working when the service stops')
    }
    const passwords = createPasswordHasher(config.passwordHash)
    const first = config.auth.firstSuperuser
    if (first) {
      const users = createUsersRepository(createDatabase(sql, config.database))
      await ensureFirstSuperuser(first, { users, passwords, logger })
    }
    if (stopping) return
    const app = createApp({ sql, config, logger, lifecycle, passwords })
    const bun = Bun.serve({
      hostname: config.host,
      port: config.port,
      maxRequestBodySize: BUN_BODY_LIMIT,
      idleTimeout: config.idleTimeoutSeconds,
      // The socket's address travels with the request (throttling, sessions); headers cannot fake it.
      fetch: (request, server) => app.handle(withPeer(routable(request), server.requestIP(request)?.address)),
    })
    server = { stop: (force) => bun.stop(force) }
    const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${bun.port}`
    logger.info('listening', { url: address, docs: `${address}/docs`, env: config.env })
  } catch (error) {
    // A shutdown under way explains the failure (its own exit follows); otherwise clean up and fail.
    if (stopping) return
    await stopDatabase().catch(() => {})
    throw error
  }
}

let config: Config
try {
  config = loadConfig()
  if (config.database.url === undefined) refuseEmbeddedInProduction(config, 'DATABASE_URL')
  refuseWeakKeysInProduction(config)
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
}
const logger = createLogger({ level: config.logLevel, json: config.env === 'production' })
main(config, logger).catch((error) => {
  logger.error('could not start', describeError(error))
  // A failed start must say why even with LOG_LEVEL=silent.
  if (config.logLevel === 'silent') console.error(`could not start: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
})
