// Where a cluster lives.
//
// Layout. A "home" is a folder holding one cluster (`<home>/postgres`):
// - persistent: the project's dataDir itself, which also keeps `postgres-credentials.json` (port and
//   password, 0600);
// - throwaway (tests): a fresh `<dataDir>/postgres-ephemeral-*` folder, removed by stop();
// - as root, when the `postgres` OS user cannot reach the project (a 0700 parent such as /root or a
//   mktemp folder): `/var/tmp/users-service-pg-<hash>[-*]`, holding the cluster and a copy of the
//   programs, with `home.json` naming the project and, for persistent ones, `<dataDir>/cluster-location`
//   pointing back at it.
// Homes other than dataDir carry `home.json`; throwaway homes and running clusters record their owner
// process in `postgres.owner`. At each start, homes whose project is gone or whose throwaway owner
// died are removed (after stopping a server still running there).

import { createHash } from 'node:crypto'
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Logger } from '../../logger'
import { copyNative, type Native } from './native'
import { canReach, type OsUser } from './os-user'
import { ownerAlive, runningPostmaster, stopPid, writeOwner } from './processes'

/** The cluster's folder inside its home. */
export const CLUSTER = 'postgres'
const POINTER_FILE = 'cluster-location'
const HOME_FILE = 'home.json'
const EPHEMERAL_PREFIX = 'postgres-ephemeral-'
const RELOCATION_ROOT = '/var/tmp'
const RELOCATED_PREFIX = 'users-service-pg-'

export interface Home {
  dir: string
  bin: string
  relocated: boolean
}
interface HomeRecord {
  project: string
  ephemeral: boolean
  nativeVersion: string
}

export function persistentHome(project: string, native: Native, user: OsUser | undefined, logger: Logger): Home {
  const local: Home = { dir: project, bin: join(native.dir, 'bin'), relocated: false }
  if (!user) return local
  const pointed = pointedHome(project, user, logger)
  if (!pointed && canReach(user, project, native)) return local
  const dir = pointed ?? join(RELOCATION_ROOT, RELOCATED_PREFIX + hashOf(project))
  const home = relocatedHome(dir, project, false, native, user)
  const pointer = join(project, POINTER_FILE)
  writeFileSync(pointer, `${dir}\n`)
  logger.info('the postgres OS user cannot reach the project folder: its cluster and a copy of the PostgreSQL programs are kept elsewhere', {
    location: dir,
    pointer,
  })
  return home
}

/** The relocated home named by `<dataDir>/cluster-location`; it follows the project if the project was moved. */
function pointedHome(project: string, user: OsUser, logger: Logger): string | undefined {
  const pointer = join(project, POINTER_FILE)
  if (!existsSync(pointer)) return undefined
  const dir = readFileSync(pointer, 'utf8').trim()
  const valid = dirname(dir) === RELOCATION_ROOT && basename(dir).startsWith(RELOCATED_PREFIX) && ownedBy(dir, user) && readHomeRecord(dir) !== undefined
  if (valid) return dir
  logger.warn('the relocated PostgreSQL cluster named by the pointer file is gone; using a new one', { pointer, location: dir })
  return undefined
}

export function ephemeralHome(project: string, native: Native, user: OsUser | undefined): Home {
  const local = !user || canReach(user, project, native)
  const dir = mkdtempSync(local ? join(project, EPHEMERAL_PREFIX) : join(RELOCATION_ROOT, `${RELOCATED_PREFIX}${hashOf(project)}-`))
  try {
    if (user) chownSync(dir, user.uid, user.gid)
    // The owner comes before home.json: a sweep only judges homes that have a home.json.
    writeOwner(dir)
    if (!local && user) return relocatedHome(dir, project, true, native, user)
    writeHomeRecord(dir, { project, ephemeral: true, nativeVersion: native.version })
    return { dir, bin: join(native.dir, 'bin'), relocated: false }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

function relocatedHome(dir: string, project: string, ephemeral: boolean, native: Native, user: OsUser): Home {
  claimDir(dir, user)
  const programs = join(dir, 'native')
  if (readHomeRecord(dir)?.nativeVersion !== native.version || !existsSync(join(programs, 'bin', 'postgres'))) copyNative(native, programs)
  writeHomeRecord(dir, { project, ephemeral, nativeVersion: native.version })
  return { dir, bin: join(programs, 'bin'), relocated: true }
}

/** Creates (or takes over) a home under /var/tmp for the postgres user, 0700. */
function claimDir(dir: string, user: OsUser): void {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  // /var/tmp is writable by everyone: never adopt a folder or symlink someone else put there under our name.
  const stat = lstatSync(dir)
  if (!stat.isDirectory() || (stat.uid !== user.uid && stat.uid !== 0)) throw new Error(`${dir} exists but is not a folder owned by root or postgres; remove it`)
  chownSync(dir, user.uid, user.gid)
  chmodSync(dir, 0o700)
}

function readHomeRecord(dir: string): HomeRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, HOME_FILE), 'utf8')) as HomeRecord
  } catch {
    return undefined
  }
}

function writeHomeRecord(dir: string, record: HomeRecord): void {
  writeFileSync(join(dir, HOME_FILE), JSON.stringify(record) + '\n')
}

function ownedBy(dir: string, user: OsUser): boolean {
  try {
    const stat = lstatSync(dir)
    return stat.isDirectory() && stat.uid === user.uid
  } catch {
    return false
  }
}

function hashOf(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 16)
}

/** Removes homes whose project folder is gone, and throwaway homes whose owner process died. */
export async function sweepStaleHomes(project: string, ownHome: string, user: OsUser | undefined, logger: Logger): Promise<void> {
  const candidates = [
    ...childDirs(project, EPHEMERAL_PREFIX),
    ...(user ? childDirs(RELOCATION_ROOT, RELOCATED_PREFIX).filter((dir) => ownedBy(dir, user)) : []),
  ]
  for (const dir of candidates) {
    if (dir === ownHome || !isStale(dir)) continue
    const pid = runningPostmaster(join(dir, CLUSTER))
    if (pid !== undefined) await stopPid(pid)
    rmSync(dir, { recursive: true, force: true })
    logger.info('removed a leftover embedded PostgreSQL cluster', { location: dir, stoppedServer: pid })
  }
}

function childDirs(parent: string, prefix: string): string[] {
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(parent, name))
}

function isStale(dir: string): boolean {
  const record = readHomeRecord(dir)
  if (!record) return false // not (yet) described: not ours to judge
  if (!existsSync(record.project)) return true
  return record.ephemeral && !ownerAlive(dir)
}

