// Entry point: reads the configuration, gets a database (DATABASE_URL, or in development the
// embedded PostgreSQL under ./.data), serves, and shuts down cleanly on SIGINT/SIGTERM.
import type { Sql } from 'postgres'
import { createApp } from './app'
import { type Config, ConfigError, loadConfig, refuseEmbeddedInProduction, refuseWeakKeysInProduction } from './config'
import { connectionCapacity } from './db/capacity'
import { createSql } from './db/client'
import { createDatabase } from './db/database'
import { applyMigrations } from './db/migrations'
import { waitForDatabase } from './db/startup'
import type { EmbeddedPostgres } from './embedded-postgres'
import { withPeer } from './http/client-address'
import { routable } from './http/routable'
import { startingHandler } from './http/starting'
import { createLogger, describeError, type Logger } from './logger'
import { ensureFirstSuperuser } from './modules/users/first-superuser'
import { createUsersRepository } from './modules/users/repository'
import { createPasswordHasher } from './security/passwords'
import { within } from './timing'

/** Bun answers 413 with an empty body past its own limit; ours (MAX_BODY_BYTES, JSON 413) must come first. */
const BUN_BODY_LIMIT = 2 ** 40

/** How the primary starts a worker: this script again, told so. */
const WORKER_FLAG = '--worker'
const isWorker = process.argv.includes(WORKER_FLAG)

/** A free port of `host`, for workers to share when PORT is 0. */
function freePort(host: string): number {
  const probe = Bun.listen({ hostname: host, port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

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
        // are refused and in-flight requests finish. Workers each do so themselves.
        lifecycle.draining = true
        const drainHere = config.workers === 1 ? config.drainSeconds : 0
        if (drainHere > 0) await Bun.sleep(drainHere * 1000)
        // Workers also close their pools (up to 5 s) before they exit.
        const allowedSeconds = config.shutdownTimeoutSeconds + (config.workers > 1 ? config.drainSeconds + 6 : 0)
        if (!(await within(server.stop(), allowedSeconds * 1000)).done) {
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
  // A worker whose primary is gone (killed, say) stops rather than serve on alone.
  if (isWorker) {
    process.stdin.on('end', () => void shutdown('the primary went away', 0))
    process.stdin.resume()
  }

  // A single process listens at once: while the database is started or waited for, /livez says
  // it is alive and the rest answers 503. The app takes over once it is built.
  let serve: (request: Request, server: Bun.Server<undefined>) => Promise<Response> = startingHandler(logger)
  const listen = () => {
    const bun = Bun.serve({
      hostname: config.host,
      port: config.port,
      // Workers of one primary share its port; the kernel spreads connections between them.
      reusePort: isWorker,
      maxRequestBodySize: BUN_BODY_LIMIT,
      idleTimeout: config.idleTimeoutSeconds,
      fetch: (request, server) => serve(request, server),
    })
    server = { stop: (force) => bun.stop(force) }
    return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${bun.port}`
  }

  try {
    // A worker listens only once it can serve: its siblings answer meanwhile.
    const address = config.workers === 1 && !isWorker ? listen() : undefined
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
    if (embedded === undefined && !isWorker) {
      await waitForDatabase(sql, {
        url,
        timeoutSeconds: config.database.startTimeoutSeconds,
        tryTimeoutMs: (config.database.connectTimeoutSeconds + 1) * 1000,
        logger,
        stopping: () => stopping !== undefined,
      })
    }
    if (stopping) return
    const capacity = await connectionCapacity(sql)
    if (config.workers * config.database.poolMax > capacity.available) {
      throw new Error(
        `WORKERS x DATABASE_POOL_MAX = ${config.workers} x ${config.database.poolMax} connections, but PostgreSQL allows ${capacity.available} (max_connections ${capacity.max} - ${capacity.reserved} reserved)`,
      )
    }
    if (config.auth.generatedKey && !isWorker) {
      logger.warn('SECRET_KEY is not set: tokens are signed with a random key and stop working when the service stops')
    }
    const passwords = createPasswordHasher(config.passwordHash)
    const first = config.auth.firstSuperuser
    if (first && !isWorker) {
      const users = createUsersRepository(createDatabase(sql, config.database), config.items)
      await ensureFirstSuperuser(first, { users, passwords, logger })
    }
    if (stopping) return
    if (config.workers > 1) {
      server = startWorkers(config, url, logger, {
        stopping: () => stopping !== undefined,
        onUnexpectedExit: () => void shutdown('a worker exited', 1),
      })
      // The primary serves nothing: its pool is not needed any more.
      await sql.end({ timeout: 5 })
      sql = undefined
      return
    }
    const app = createApp({ sql, config, logger, lifecycle, passwords })
    // The socket's address travels with the request (throttling, sessions); headers cannot fake it.
    serve = (request, server) => app.handle(withPeer(routable(request), server.requestIP(request)?.address))
    const served = address ?? listen()
    logger.info('listening', { url: served, docs: `${served}/docs`, env: config.env, worker: isWorker || undefined })
  } catch (error) {
    // A shutdown under way explains the failure (its own exit follows); otherwise clean up and fail.
    if (stopping) return
    await stopDatabase().catch(() => {})
    throw error
  }
}

/**
 * WORKERS > 1: this process (the primary) has the database ready and starts that many workers, each
 * this script again with its own pool, serving one port together. A worker gets the database's URL
 * (the embedded one's too) and the signing key, and makes no first superuser (the primary did).
 * Stopping the primary stops its workers (each drains as it would alone); a worker that exits on
 * its own stops the rest, so that an orchestrator restarts the whole service.
 */
function startWorkers(
  config: Config,
  url: string,
  logger: Logger,
  primary: { stopping: () => boolean; onUnexpectedExit: () => void },
) {
  const port = config.port === 0 ? freePort(config.host) : config.port
  const workers = Array.from({ length: config.workers }, (_, index) => {
    const child = Bun.spawn([process.execPath, import.meta.path, WORKER_FLAG], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        PORT: String(port),
        WORKERS: '1',
        SECRET_KEY: config.auth.secretKeys.map((key) => new TextDecoder().decode(key)).join(','),
        FIRST_SUPERUSER_EMAIL: '',
        FIRST_SUPERUSER_PASSWORD: '',
        // The primary's share per process, not each worker's own default for the whole machine.
        PASSWORD_HASH_CONCURRENCY: String(config.passwordHash.concurrency),
      },
      // The pipe closes when the primary dies, however it dies: the worker then stops too.
      stdio: ['pipe', 'inherit', 'inherit'],
    })
    void child.exited.then((code) => {
      // A Ctrl-C reaches the workers too (one process group): that exit is expected.
      if (primary.stopping()) return
      logger.error('a worker exited; stopping the service', { worker: index, exit_code: code })
      primary.onUnexpectedExit()
    })
    return child
  })
  logger.info('workers started', { workers: config.workers, port })
  return {
    async stop(force?: boolean) {
      for (const worker of workers) worker.kill(force ? 'SIGKILL' : 'SIGTERM')
      await Promise.all(workers.map((worker) => worker.exited))
    },
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
