// A cluster and its server, through PostgreSQL's own programs: initdb creates the cluster; pg_ctl starts
// the server in a session of its own (so a Ctrl-C to the service's process group does not reach it: the
// service stops it after draining, processes.ts), with its log in a file, and waits until it is ready.

import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  existsSync,
  fchownSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { readTailNoFollow } from './files'
import { postmasterReady, stopPostmaster, waitFor } from './processes'
import { type OsUser, runProgram } from './programs'

const START_TIMEOUT_SECONDS = 30
/** The server's own log, beside its data; each start begins a new one, and keeps the last as `.1`. */
const LOG_FILE = 'server.log'
const LOG_TAIL = 20

/** Where the server of a cluster writes its log. */
export const serverLogOf = (clusterDir: string) => join(clusterDir, LOG_FILE)

/** The PostgreSQL programs (`bin`) a cluster runs with, and who runs them. */
export interface Programs {
  bin: string
  user: OsUser | undefined
}

/**
 * pg_ctl hands the server's program, data folder and log to /bin/sh in double quotes: a path holding any
 * of these characters would break out of them, so it is refused (before initdb spends a second on it).
 */
export function checkPaths({ bin }: Programs, clusterDir: string): void {
  const paths: [path: string, remedy: string][] = [
    [clusterDir, 'set DATA_DIR to another folder'],
    [bin, 'move the project to another folder'],
  ]
  for (const [path, remedy] of paths) {
    if (/["$`\\]/.test(path)) {
      throw new Error(
        `embedded PostgreSQL cannot run with ${path}: pg_ctl cannot start a server whose paths hold " $ \` or \\; ${remedy}`,
      )
    }
  }
}

/**
 * initdb into a staging folder renamed into place once complete, so a crash mid-way never leaves a half
 * cluster behind. Returns what initdb printed.
 */
export async function initCluster(
  { bin, user }: Programs,
  clusterDir: string,
  password: string,
  persistent: boolean,
): Promise<string> {
  if (existsSync(clusterDir) && readdirSync(clusterDir).length > 0) {
    throw new Error(`${clusterDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away`)
  }
  const staging = `${clusterDir}.init`
  rmSync(staging, { recursive: true, force: true }) // a symlink there is removed, not followed
  // The password file sits in the home, readable by the server's user only, and lives just as long as initdb.
  const pwfile = join(dirname(clusterDir), `.pwfile-${randomBytes(8).toString('hex')}`)
  try {
    // The home may belong to the postgres user, who could swap either for a symlink between its creation
    // and a chown by name (root would then give it any file): both are handed over through the descriptor
    // they were created with. O_EXCL does not follow a symlink; O_NOFOLLOW refuses one.
    mkdirSync(staging, { mode: 0o700 })
    withDescriptor(openSync(staging, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW), (fd) => {
      if (user) fchownSync(fd, user.uid, user.gid)
    })
    const pwflags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
    withDescriptor(openSync(pwfile, pwflags, 0o600), (fd) => {
      if (user) fchownSync(fd, user.uid, user.gid)
      writeSync(fd, `${password}\n`)
    })
    const cmd = [
      join(bin, 'initdb'),
      '-D',
      staging,
      '-U',
      'postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--no-instructions',
      ...(persistent ? [] : ['--no-sync']),
    ]
    const output = await runProgram(cmd, { user })
    renameSync(staging, clusterDir)
    return output
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  } finally {
    rmSync(pwfile, { force: true })
  }
}

/**
 * Starts the server on 127.0.0.1 only (no Unix socket) and waits until it is ready; a throwaway cluster runs
 * without fsync. A server that fails to start is stopped, and the error carries its last log lines.
 */
export async function startServer(
  programs: Programs,
  clusterDir: string,
  port: number,
  persistent: boolean,
): Promise<void> {
  const log = serverLogOf(clusterDir)
  // A rename moves a link planted there, never its target (see files.ts).
  if (existsSync(log)) renameSync(log, `${log}.1`)
  const settings = [
    ...['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ]
  const pgCtl = join(programs.bin, 'pg_ctl')
  const timeout = String(START_TIMEOUT_SECONDS)
  const cmd = [pgCtl, 'start', '-D', clusterDir, '-l', log, '-w', '-t', timeout, '-s', '-o', settings.join(' ')]
  try {
    await runProgram(cmd, { user: programs.user, detached: true })
  } catch (error) {
    // Up but not ready in time: not left running. (This process owns the home, so the server is its own.)
    await stopPostmaster(clusterDir).catch(() => {})
    throw new Error(withLog(`PostgreSQL did not start: ${(error as Error).message}`, serverLogTail(clusterDir)))
  }
}

/**
 * Waits for a server another process runs (see `attach`) to be ready, and checks that our saved credentials
 * let us in. False when its owner went away first.
 */
export async function waitUntilAccepting(clusterDir: string, url: string, ownerAlive: () => boolean): Promise<boolean> {
  const ready = () => postmasterReady(clusterDir)
  if (!(await waitFor(() => ready() || !ownerAlive(), START_TIMEOUT_SECONDS * 1000))) {
    throw new Error(`the PostgreSQL server in ${clusterDir} did not become ready within ${START_TIMEOUT_SECONDS} s`)
  }
  if (!ready()) return false
  await checkConnection(url)
  return true
}

/** The saved credentials let us in. */
export async function checkConnection(url: string, clusterDir?: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    const message = `PostgreSQL is up but refused a connection with the saved credentials: ${(error as Error).message}`
    throw new Error(clusterDir ? withLog(message, serverLogTail(clusterDir)) : message)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

function withDescriptor(fd: number, use: (fd: number) => void): void {
  try {
    use(fd)
  } finally {
    closeSync(fd)
  }
}

/** The server's last log lines. Written by the postgres user: see files.ts. */
export function serverLogTail(clusterDir: string): string[] {
  const lines = readTailNoFollow(serverLogOf(clusterDir))?.split('\n') ?? []
  // A failed statement's text and its details may hold data (a literal, a duplicate key): not for our logs.
  return lines.filter((line) => line && !/\b(STATEMENT|DETAIL):/.test(line)).slice(-LOG_TAIL)
}

function withLog(message: string, lines: string[]): string {
  return lines.length > 0 ? `${message}\nlast PostgreSQL log lines:\n${lines.join('\n')}` : message
}
