// Processes as /proc shows them: the owner recorded in a home, the server running on a cluster (ours, or
// one left behind by a killed run), and stopping it with escalating signals. Where there is no /proc
// (macOS), a live PID is all there is to go by, as for PostgreSQL itself.

import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createFileNoFollow, readFileNoFollow } from './files'

const OWNER_FILE = 'postgres.owner'
const HAS_PROC = existsSync('/proc/self/stat')
// Fast shutdown first; immediate shutdown (SIGQUIT, which still stops the children) and SIGKILL only if it hangs.
const STOP_STEPS = [
  ['SIGINT', 15_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
] as const

/** A process as we know it: its PID, and its start time so that a reused PID is not taken for it. */
interface Identity {
  pid: number
  start: string
}

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

const identityOf = (pid: number): Identity => ({ pid, start: procStat(pid)?.start ?? '' })

/**
 * Whether this very process still runs. Zombies count as gone: where PID 1 does not reap (some
 * containers) a dead server stays one. A process of another user (EPERM) runs.
 */
function isAlive({ pid, start }: Identity): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (!HAS_PROC) return true
  const stat = procStat(pid)
  return stat !== undefined && stat.state !== 'Z' && stat.start === start
}

/** The records this program wrote, by home: a record of our PID that is not here was left by an earlier run in this process (`bun --watch` reloads keep the PID). */
const claimed = new Map<string, string>()

function parseRecord(text: string | undefined): Identity | undefined {
  const [pid, start = ''] = text?.trim().split(' ') ?? []
  return Number.isInteger(Number(pid)) && Number(pid) > 0 ? { pid: Number(pid), start } : undefined
}

/**
 * Takes the home for this program, atomically, so that two starts at once never both own it. Returns the
 * PID of the live process that owns it instead, if there is one; a record whose process died is replaced.
 * Any record is read (never through a link: the home may be the postgres user's, see files.ts), whoever
 * wrote it: a live owner is never overruled, even one of another user.
 */
export function claimOwner(dir: string): number | undefined {
  const file = join(dir, OWNER_FILE)
  const { pid, start } = identityOf(process.pid)
  const record = `${pid} ${start} ${randomBytes(8).toString('hex')}\n`
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createFileNoFollow(file, record)) {
      claimed.set(dir, record)
      return undefined
    }
    const judged = readFileNoFollow(file)
    const owner = parseRecord(judged)
    const earlierRun = owner?.pid === process.pid && judged !== claimed.get(dir)
    if (owner && isAlive(owner) && !earlierRun) return owner.pid
    // Stale. Moved aside rather than deleted, to see that it is the record judged and not one another
    // start has claimed meanwhile; such a claim is put back.
    const aside = `${file}.${process.pid}.stale`
    try {
      renameSync(file, aside)
    } catch {
      continue // gone already
    }
    if (readFileNoFollow(aside) !== judged) {
      try {
        linkSync(aside, file)
      } catch {
        // Claimed again meanwhile: the next attempt judges that one.
      }
    }
    rmSync(aside, { recursive: true, force: true })
  }
  throw new Error(`could not take ${dir} for this process: other processes keep claiming it`)
}

/** Whether the home is still ours: checked before anything that only its owner may do. */
export function ownsHome(dir: string): boolean {
  return claimed.has(dir) && readFileNoFollow(join(dir, OWNER_FILE)) === claimed.get(dir)
}

/** Once our server there has stopped, this process no longer owns the home: a later sweep may judge it. */
export function releaseOwner(dir: string): void {
  if (ownsHome(dir)) rmSync(join(dir, OWNER_FILE), { force: true })
  claimed.delete(dir)
}

export function ownerAlive(dir: string): boolean {
  const owner = parseRecord(readFileNoFollow(join(dir, OWNER_FILE)))
  return owner !== undefined && isAlive(owner)
}

/**
 * The server still running on this cluster: named in postmaster.pid, with the data directory on its
 * command line; `ready` when the file's status line (the 8th) says so.
 */
function postmasterOf(clusterDir: string): (Identity & { ready: boolean }) | undefined {
  // Written by the server, so by the postgres user: not read through a link, nor if it is not a small regular file.
  const lines = readFileNoFollow(join(clusterDir, 'postmaster.pid'))?.split('\n') ?? []
  const pid = Number(lines[0])
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  const server = { ...identityOf(pid), ready: lines[7]?.trim() === 'ready' }
  if (!isAlive(server)) return undefined
  if (!HAS_PROC) return server
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(clusterDir) ? server : undefined
  } catch {
    return undefined
  }
}

export function runningPostmaster(clusterDir: string): number | undefined {
  return postmasterOf(clusterDir)?.pid
}

export function postmasterReady(clusterDir: string): boolean {
  return postmasterOf(clusterDir)?.ready === true
}

/**
 * Stops the server running on this cluster, if one is, and resolves once it has exited. The last resort,
 * SIGKILL, goes to its whole process group (it leads one), so no child keeps the shared memory.
 */
export async function stopPostmaster(clusterDir: string): Promise<void> {
  const server = postmasterOf(clusterDir)
  if (server === undefined) return
  for (const [signal, ms] of STOP_STEPS) {
    // Checked before each signal: once it has exited, its PID may be another process's.
    if (!isAlive(server)) return
    try {
      process.kill(signal === 'SIGKILL' ? -server.pid : server.pid, signal)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM') {
        throw new Error(`cannot stop PostgreSQL process ${server.pid} on ${clusterDir}: it belongs to another user`)
      }
    }
    if (await waitFor(() => !isAlive(server), ms)) return
  }
  throw new Error(`could not stop PostgreSQL process ${server.pid}`)
}

/** Polls `condition` every 20 ms until it holds (true) or `ms` have passed (false). */
export async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() > deadline) return false
    await Bun.sleep(20)
  }
  return true
}
