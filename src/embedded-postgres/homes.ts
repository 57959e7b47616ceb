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
// Homes other than dataDir carry `home.json` (rewritten at each start: its mtime says when the home was
// last used); throwaway homes and running clusters record their owner process in `postgres.owner`.
//
// The sweep, at each start: a home whose owner process is alive is never touched, whatever else is true
// of it (its project may merely have been renamed while the service runs). Otherwise a throwaway home is
// removed (it held a test cluster), and a relocated persistent home whose project folder no longer exists
// is removed once it has also gone unused for UNUSED_HOME_GRACE_MS; a server still running there (left by
// a `kill -9`) is stopped first.
//
// Files root writes in or reads from these homes (the postgres OS user owns them) go through files.ts:
// never through a symlink that user may have planted.

import { createHash } from 'node:crypto'
import {
  chownSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Logger } from '../logger'
import { ourUids, readFileNoFollow, writeFileNoFollow } from './files'
import { copyNative, type Native } from './native'
import { canReach } from './os-user'
import { claimOwner, ownerAlive, runningPostmaster, stopPostmaster } from './processes'
import type { OsUser } from './programs'

/** The cluster's folder inside its home. */
export const CLUSTER = 'postgres'
const POINTER_FILE = 'cluster-location'
const HOME_FILE = 'home.json'
const EPHEMERAL_PREFIX = 'postgres-ephemeral-'
const RELOCATION_ROOT = '/var/tmp'
const RELOCATED_PREFIX = 'users-service-pg-'
/**
 * How long a relocated home whose project folder is gone is kept after it was last started, before a
 * sweep removes it (and its data). The project may come back: it was renamed or moved while the service
 * was stopped (a start from the new place follows the pointer file and takes the home back), or it sits
 * on a disk that is not mounted right now. Removing such a home at once would lose its data for good, so
 * "the project no longer exists" alone is not enough: it must also have gone unused for a week.
 */
const UNUSED_HOME_GRACE_MS = 7 * 24 * 60 * 60 * 1000

export interface Home {
  dir: string
  /** The PostgreSQL programs its cluster runs with. */
  bin: string
  relocated: boolean
}
interface HomeRecord {
  project: string
  ephemeral: boolean
  nativeVersion: string
}

/**
 * Where the project's persistent cluster lives. Only the place is settled here (a relocated folder is made,
 * the pointer written); its owner furnishes it (`furnishHome`) once it has claimed it.
 */
export function persistentHome(project: string, native: Native, user: OsUser | undefined, logger: Logger): Home {
  const local: Home = { dir: project, bin: join(native.dir, 'bin'), relocated: false }
  if (!user) return local
  const pointed = pointedHome(project, user, logger)
  if (!pointed && canReach(user, project, native)) return local
  const dir = pointed ?? join(RELOCATION_ROOT, RELOCATED_PREFIX + hashOf(project))
  claimDir(dir, user)
  const pointer = join(project, POINTER_FILE)
  writeFileSync(pointer, `${dir}\n`)
  logger.info(
    'the postgres OS user cannot reach the project folder: its cluster and a copy of the PostgreSQL programs are kept elsewhere',
    { location: dir, pointer },
  )
  return { dir, bin: relocatedBin(dir), relocated: true }
}

/**
 * Readies a persistent home for its owner, who is about to start it: a relocated one gets the current
 * programs and its record (home.json), which says when it was last used. Never done by a process that
 * merely attaches to a running cluster: it would change the programs under the running server.
 */
export function furnishHome(home: Home, project: string, native: Native): void {
  if (home.relocated) furnishRelocated(home.dir, project, false, native)
}

/** The relocated home named by `<dataDir>/cluster-location`; it follows the project if the project was moved. */
function pointedHome(project: string, user: OsUser, logger: Logger): string | undefined {
  const pointer = join(project, POINTER_FILE)
  if (!existsSync(pointer)) return undefined
  const dir = readFileSync(pointer, 'utf8').trim()
  const valid =
    dirname(dir) === RELOCATION_ROOT &&
    basename(dir).startsWith(RELOCATED_PREFIX) &&
    ownedBy(dir, user) &&
    readHomeRecord(dir) !== undefined
  if (valid) return dir
  logger.warn('the relocated PostgreSQL cluster named by the pointer file is gone or not valid; using a new one', {
    pointer,
    location: dir,
  })
  return undefined
}

export function ephemeralHome(project: string, native: Native, user: OsUser | undefined): Home {
  const local = !user || canReach(user, project, native)
  const dir = mkdtempSync(
    local ? join(project, EPHEMERAL_PREFIX) : join(RELOCATION_ROOT, `${RELOCATED_PREFIX}${hashOf(project)}-`),
  )
  try {
    if (user) chownSync(dir, user.uid, user.gid)
    // The owner comes before home.json: a sweep only judges homes that have a home.json. A new folder: ours.
    claimOwner(dir)
    if (!local && user) {
      claimDir(dir, user)
      furnishRelocated(dir, project, true, native)
      return { dir, bin: relocatedBin(dir), relocated: true }
    }
    writeHomeRecord(dir, { project, ephemeral: true, nativeVersion: native.version })
    return { dir, bin: join(native.dir, 'bin'), relocated: false }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** A relocated home runs its own copy of the programs: the postgres user cannot reach the package's. */
const relocatedBin = (dir: string) => join(dir, 'native', 'bin')

function furnishRelocated(dir: string, project: string, ephemeral: boolean, native: Native): void {
  const programs = join(dir, 'native')
  if (readHomeRecord(dir)?.nativeVersion !== native.version || !existsSync(join(programs, 'bin', 'postgres')))
    copyNative(native, programs)
  writeHomeRecord(dir, { project, ephemeral, nativeVersion: native.version })
}

/** Creates (or takes over) a home under /var/tmp for the postgres user, 0700. */
function claimDir(dir: string, user: OsUser): void {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  // /var/tmp is writable by everyone: never adopt a folder or symlink someone else put there under our name.
  // Checked and changed through one descriptor opened without following a link, so that the folder
  // cannot be swapped for a symlink between the check and the chown.
  const refuse = () => new Error(`${dir} exists but is not a folder owned by root or postgres; remove it`)
  let fd: number
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
  } catch {
    throw refuse()
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isDirectory() || (stat.uid !== user.uid && stat.uid !== 0)) throw refuse()
    fchownSync(fd, user.uid, user.gid)
    fchmodSync(fd, 0o700)
  } finally {
    closeSync(fd)
  }
}

/** Only a record we wrote (owned by root or by us), never read through a link. */
function readHomeRecord(dir: string): HomeRecord | undefined {
  const text = readFileNoFollow(join(dir, HOME_FILE), ourUids())
  if (text === undefined) return undefined
  try {
    const record = JSON.parse(text) as Partial<HomeRecord>
    if (typeof record.project !== 'string' || typeof record.ephemeral !== 'boolean') return undefined
    return record as HomeRecord
  } catch {
    return undefined
  }
}

/** Rewritten at each start: its mtime is when the home was last used. */
function writeHomeRecord(dir: string, record: HomeRecord): void {
  writeFileNoFollow(join(dir, HOME_FILE), `${JSON.stringify(record)}\n`)
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

/**
 * Removes throwaway homes whose owner process died, and relocated homes whose project folder is gone and
 * which went unused for UNUSED_HOME_GRACE_MS. Never a home whose owner is alive (see the top of this file).
 */
export async function sweepStaleHomes(
  project: string,
  ownHome: string,
  user: OsUser | undefined,
  logger: Logger,
): Promise<void> {
  const candidates = [
    ...childDirs(project, EPHEMERAL_PREFIX),
    ...(user ? childDirs(RELOCATION_ROOT, RELOCATED_PREFIX).filter((dir) => ownedBy(dir, user)) : []),
  ]
  for (const dir of candidates) {
    if (dir === ownHome) continue
    // One leftover that cannot be cleared must not keep the service from starting.
    await sweepHome(dir, logger).catch((error: unknown) =>
      logger.warn('could not clear a leftover embedded PostgreSQL cluster', { location: dir, error: String(error) }),
    )
  }
}

async function sweepHome(dir: string, logger: Logger): Promise<void> {
  const verdict = judge(dir)
  if (verdict.kind === 'keep') return
  // Its owner is dead: a server still running there is an orphan. Stopping it keeps the data.
  const clusterDir = join(dir, CLUSTER)
  const orphan = runningPostmaster(clusterDir)
  if (orphan !== undefined) await stopPostmaster(clusterDir)
  if (verdict.kind === 'grace') {
    logger.warn(
      'keeping the embedded PostgreSQL cluster of a project folder that no longer exists, in case it was only renamed or unmounted; delete it yourself if the project is gone for good',
      {
        location: dir,
        project: verdict.project,
        lastStarted: new Date(verdict.lastStarted).toISOString(),
        removedAfter: new Date(verdict.lastStarted + UNUSED_HOME_GRACE_MS).toISOString(),
        stoppedServer: orphan,
      },
    )
    return
  }
  rmSync(dir, { recursive: true, force: true })
  logger.info('removed a leftover embedded PostgreSQL cluster', { location: dir, stoppedServer: orphan })
}

function childDirs(parent: string, prefix: string): string[] {
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(parent, name))
}

type Verdict = { kind: 'keep' } | { kind: 'remove' } | { kind: 'grace'; project: string; lastStarted: number }

function judge(dir: string, now = Date.now()): Verdict {
  const record = readHomeRecord(dir)
  if (!record) return { kind: 'keep' } // not (yet) described: not ours to judge
  // In use: its service (or test run) is alive, even if its project was renamed under it.
  if (ownerAlive(dir)) return { kind: 'keep' }
  if (record.ephemeral) return { kind: 'remove' } // a test cluster whose run died
  if (existsSync(record.project)) return { kind: 'keep' }
  const lastStarted = lastStart(dir)
  if (lastStarted === undefined) return { kind: 'keep' }
  return now - lastStarted > UNUSED_HOME_GRACE_MS
    ? { kind: 'remove' }
    : { kind: 'grace', project: record.project, lastStarted }
}

function lastStart(dir: string): number | undefined {
  try {
    return lstatSync(join(dir, HOME_FILE)).mtimeMs
  } catch {
    return undefined
  }
}
