// A cluster and its server, through PostgreSQL's own programs: initdb creates the cluster, pg_ctl starts
// the server (in a session of its own, so a Ctrl-C to the service's process group does not reach it: the
// service stops it after draining), waits until it is ready, and stops it.

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
import { readFileNoFollow } from './files'
import { isRunning, runningPostmaster, waitFor } from './processes'
import { type OsUser, runProgram } from './programs'

const START_TIMEOUT_SECONDS = 30
/** The server's own log, beside its data; each start begins a new one. */
const LOG_FILE = 'server.log'
const LOG_TAIL = 20
/** Fast shutdown first; immediate shutdown (which still stops the children) only if that hangs; SIGKILL last. */
const STOP_STEPS = [
  ['fast', 15],
  ['immediate', 5],
] as const

/** Where the server of a cluster writes its log. */
export const serverLogOf = (clusterDir: string) => join(clusterDir, LOG_FILE)

/** The PostgreSQL programs (`bin`) a cluster runs with, and who runs them. */
export interface Programs {
  bin: string
  user: OsUser | undefined
}

/** initdb into a staging folder renamed into place once complete, so a crash mid-way never leaves a half cluster behind. */
export async function initCluster(
  { bin, user }: Programs,
  clusterDir: string,
  password: string,
  persistent: boolean,
): Promise<void> {
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
    await runProgram(cmd, { user })
    renameSync(staging, clusterDir)
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
  rmSync(log, { force: true })
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
    // Up but not ready in time: not left running.
    await stopServer(programs, clusterDir).catch(() => {})
    throw new Error(withLog(`PostgreSQL did not start: ${(error as Error).message}`, logTail(log)))
  }
}

/** Stops the server running on this cluster, if one is; resolves once it has exited. */
export async function stopServer({ bin, user }: Programs, clusterDir: string): Promise<void> {
  for (const [mode, seconds] of STOP_STEPS) {
    if (runningPostmaster(clusterDir) === undefined) return
    const cmd = [join(bin, 'pg_ctl'), 'stop', '-D', clusterDir, '-m', mode, '-w', '-t', String(seconds), '-s']
    await runProgram(cmd, { user }).catch(() => {}) // checked above, and escalated below
  }
  const pid = runningPostmaster(clusterDir)
  if (pid === undefined) return
  process.kill(pid, 'SIGKILL')
  if (!(await waitFor(() => !isRunning(pid), 5_000))) throw new Error(`could not stop PostgreSQL process ${pid}`)
}

/** A server another process runs (see `attach`): ready, and our saved credentials let us in. */
export async function waitUntilAccepting(
  clusterDir: string,
  pid: number,
  url: string,
  stillRunning: () => boolean,
): Promise<void> {
  const ready = () => postmasterReady(clusterDir, pid) || !stillRunning()
  if (!(await waitFor(ready, START_TIMEOUT_SECONDS * 1000))) {
    throw new Error(
      `the PostgreSQL server in ${clusterDir} (process ${pid}) did not become ready within ${START_TIMEOUT_SECONDS} s`,
    )
  }
  if (!postmasterReady(clusterDir, pid))
    throw new Error(`the PostgreSQL server in ${clusterDir} stopped before it was ready`)
  await checkConnection(url)
}

/** The saved credentials let us in. */
export async function checkConnection(url: string, clusterDir?: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    const message = `PostgreSQL is up but refused a connection with the saved credentials: ${(error as Error).message}`
    throw new Error(clusterDir ? withLog(message, logTail(serverLogOf(clusterDir))) : message)
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

/** postmaster.pid names the process and its status line (the 8th) says `ready`. Written by the postgres user: see files.ts. */
function postmasterReady(clusterDir: string, pid: number): boolean {
  const lines = readFileNoFollow(join(clusterDir, 'postmaster.pid'))?.split('\n') ?? []
  return lines[0] === String(pid) && lines[7]?.trim() === 'ready'
}

/** The server's last log lines. Written by the postgres user: see files.ts. */
function logTail(log: string): string[] {
  const lines = readFileNoFollow(log)?.split('\n').filter(Boolean) ?? []
  return lines.slice(-LOG_TAIL)
}

function withLog(message: string, lines: string[]): string {
  return lines.length > 0 ? `${message}\nlast PostgreSQL log lines:\n${lines.join('\n')}` : message
}
