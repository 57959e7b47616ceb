// Entry point: reads the configuration, gets a database (DATABASE_URL, or the embedded
// PostgreSQL under ./.data), serves, and shuts down cleanly on SIGINT/SIGTERM.
import { createApp } from './app'
import { ConfigError, loadConfig, type Config } from './config'
import { createSql } from './db/client'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded'
import { applyMigrations, pendingMigrations } from './db/migrations'
import { createLogger, describeError, type Logger } from './logger'
import type { Sql } from 'postgres'

/** Bun answers 413 with an empty body past its own limit; ours (MAX_BODY_BYTES, JSON 413) must come first. */
const BUN_BODY_LIMIT = 2 ** 40
const lifecycle = { draining: false }

async function main(config: Config, logger: Logger) {
  let embedded: EmbeddedPostgres | undefined
  let sql: Sql | undefined
  // Whatever was started is stopped again if the service cannot come up, so no cluster is orphaned.
  const stopDatabase = async () => {
    await sql?.end({ timeout: 5 })
    await embedded?.stop()
  }
  let app
  try {
    let url = config.database.url
    if (url === undefined) {
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, persistent: true, logger })
      url = embedded.url
      const applied = await applyMigrations(url)
      logger.info(applied.length ? 'migrations applied' : 'database schema is up to date', { applied })
    }
    sql = createSql(url, config.database, logger)
    if (embedded === undefined) {
      const pending = await pendingMigrations(sql)
      if (pending.length > 0) throw new Error(`Pending migrations: ${pending.join(', ')}. Run \`bun run db:migrate\` first.`)
    }
    app = createApp({ sql, config, logger, lifecycle }).listen({
      hostname: config.host,
      port: config.port,
      maxRequestBodySize: BUN_BODY_LIMIT,
      idleTimeout: config.idleTimeoutSeconds,
    })
  } catch (error) {
    await stopDatabase().catch(() => {})
    throw error
  }
  const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${app.server?.port}`
  logger.info('listening', { url: address, docs: `${address}/docs`, env: config.env })

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('shutting down', { signal, drain_seconds: config.drainSeconds })
    // Readiness turns 503 first so load balancers stop routing here, then new connections are
    // refused and in-flight requests finish.
    lifecycle.draining = true
    if (config.drainSeconds > 0) await Bun.sleep(config.drainSeconds * 1000)
    const timeout = Bun.sleep(config.shutdownTimeoutSeconds * 1000).then(() => 'timeout' as const)
    if ((await Promise.race([app.stop(), timeout])) === 'timeout') {
      logger.warn('in-flight requests did not finish in time; closing them', { timeout_seconds: config.shutdownTimeoutSeconds })
      await app.stop(true)
    }
    await stopDatabase()
    logger.info('stopped')
    process.exit(0)
  }

  const onSignal = (signal: string) =>
    shutdown(signal).catch((error) => {
      logger.error('shutdown failed', describeError(error))
      process.exit(1)
    })
  process.on('SIGINT', () => void onSignal('SIGINT'))
  process.on('SIGTERM', () => void onSignal('SIGTERM'))
}

let config: Config
try {
  config = loadConfig()
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
}
const logger = createLogger({ level: config.logLevel, json: config.env === 'production' })
main(config, logger).catch((error) => {
  logger.error('could not start', describeError(error))
  process.exit(1)
})
