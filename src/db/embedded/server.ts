// initdb and the server: creating the cluster, spawning postgres, waiting until it accepts connections,
// and stopping it.

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
import { join } from 'node:path'
import postgres from 'postgres'
import type { Logger } from '../../logger'
import { within } from '../../timing'
import { readFileNoFollow } from './files'
import { CLUSTER, type Home } from './homes'
import type { OsUser } from './os-user'
import { shutDown } from './processes'
import { asUser, captureOutput, childEnv, type Output, runProgram, withLog } from './programs'

const START_TIMEOUT_MS = 30_000

interface Server {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  output: Output
}

/** initdb into a staging folder renamed into place once complete, so a crash mid-way never leaves a half cluster behind. */
export async function initCluster(
  home: Home,
  password: string,
  persistent: boolean,
  user: OsUser | undefined,
  logger: Logger,
): Promise<void> {
  const target = join(home.dir, CLUSTER)
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new Error(`${target} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away`)
  const staging = `${target}.init`
  rmSync(staging, { recursive: true, force: true }) // a symlink there is removed, not followed
  // The password file sits in the home, readable by the server's user only, and lives just as long as initdb.
  const pwfile = join(home.dir, `.pwfile-${randomBytes(8).toString('hex')}`)
  try {
    // The home may belong to the postgres user, who could swap either for a symlink between its creation
    // and a chown by name (root would then give it any file): both are handed over through the descriptor
    // they were created with. O_EXCL does not follow a symlink; O_NOFOLLOW refuses one.
    mkdirSync(staging, { mode: 0o700 })
    withDescriptor(openSync(staging, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW), (fd) => {
      if (user) fchownSync(fd, user.uid, user.gid)
    })
    withDescriptor(
      openSync(pwfile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600),
      (fd) => {
        if (user) fchownSync(fd, user.uid, user.gid)
        writeSync(fd, `${password}\n`)
      },
    )
    const cmd = [
      join(home.bin, 'initdb'),
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
    await runProgram(cmd, user, logger)
    renameSync(staging, target)
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  } finally {
    rmSync(pwfile, { force: true })
  }
}

/** Its own session (detached), so a Ctrl-C to the service's process group does not reach it: the service stops it after draining. */
export function spawnServer(
  home: Home,
  port: number,
  persistent: boolean,
  user: OsUser | undefined,
  logger: Logger,
): Server {
  const cmd = [
    join(home.bin, 'postgres'),
    '-D',
    join(home.dir, CLUSTER),
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ]
  // Bun sets uid/gid itself (no runuser, which would fork): the PID we signal is the postmaster's.
  const proc = Bun.spawn({
    cmd,
    env: childEnv(),
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    ...asUser(user),
  })
  return { proc, output: captureOutput(proc.stdout, proc.stderr, 'postgres', logger) }
}

export async function waitUntilReady(server: Server, clusterDir: string, url: string): Promise<void> {
  const { proc, output } = server
  const deadline = performance.now() + START_TIMEOUT_MS
  while (!postmasterReady(clusterDir, proc.pid)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await within(output.done, 200)
      throw new Error(
        withLog(`PostgreSQL exited during start (${proc.signalCode ?? `exit code ${proc.exitCode}`})`, output.lines),
      )
    }
    if (performance.now() > deadline)
      throw new Error(withLog(`PostgreSQL did not become ready within ${START_TIMEOUT_MS / 1000} s`, output.lines))
    await Bun.sleep(10)
  }
  await checkConnection(url, output.lines)
}

/** A server another process runs (see `attach`): ready, and our saved credentials let us in. */
export async function waitUntilAccepting(
  clusterDir: string,
  pid: number,
  url: string,
  stillRunning: () => boolean,
): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS
  while (!postmasterReady(clusterDir, pid)) {
    if (!stillRunning()) throw new Error(`the PostgreSQL server in ${clusterDir} stopped before it was ready`)
    if (performance.now() > deadline)
      throw new Error(
        `the PostgreSQL server in ${clusterDir} (process ${pid}) did not become ready within ${START_TIMEOUT_MS / 1000} s`,
      )
    await Bun.sleep(50)
  }
  await checkConnection(url, [])
}

async function checkConnection(url: string, log: string[]): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    throw new Error(
      withLog(`PostgreSQL is up but refused a connection with the saved credentials: ${(error as Error).message}`, log),
    )
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

/** postmaster.pid names our process and its status line (the 8th) says `ready`. Written by the postgres user: see files.ts. */
function postmasterReady(clusterDir: string, pid: number): boolean {
  const lines = readFileNoFollow(join(clusterDir, 'postmaster.pid'))?.split('\n') ?? []
  return lines[0] === String(pid) && lines[7]?.trim() === 'ready'
}

export async function stopServer({ proc }: Server): Promise<void> {
  await shutDown(
    (name) => proc.kill(name),
    async (ms) => (await within(proc.exited, ms)).done,
  )
  await proc.exited
}
