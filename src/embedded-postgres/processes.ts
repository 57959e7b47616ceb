// Processes seen through /proc: the owner recorded in a home, the server running on a cluster (ours, or
// one left behind by a killed run), and stopping it with escalating signals.

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createFileNoFollow, ourUids, readFileNoFollow } from './files'

const OWNER_FILE = 'postgres.owner'
// Fast shutdown first; immediate shutdown (SIGQUIT, which still stops the children) and SIGKILL only if it hangs.
const STOP_STEPS = [
  ['SIGINT', 15_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
] as const

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
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  return procStat(pid)?.state !== 'Z'
}

/**
 * Takes the home for this process, atomically, so that two starts at once never both think they own it.
 * Returns the PID of the live process that owns it instead, if there is one; a record whose process died
 * (or one we did not write) is replaced. The record holds our PID and start time, so that a reused PID is
 * not mistaken for its owner. The home may be the postgres user's: see files.ts.
 */
export function claimOwner(dir: string): number | undefined {
  const file = join(dir, OWNER_FILE)
  const record = `${process.pid} ${procStat(process.pid)?.start ?? ''}\n`
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createFileNoFollow(file, record)) return undefined
    const stale = readFileNoFollow(file)
    const owner = readOwner(dir)
    if (owner && isAlive(owner)) return owner.pid
    // Removed only if it is still the record just judged, not one another start has claimed since.
    if (readFileNoFollow(file) === stale) rmSync(file, { force: true })
  }
  throw new Error(`could not take ${dir} for this process: other processes keep claiming it`)
}

/** Only a record we wrote (owned by root or by us), never read through a link. */
function readOwner(dir: string): { pid: number; start: string } | undefined {
  const text = readFileNoFollow(join(dir, OWNER_FILE), ourUids())
  if (text === undefined) return undefined
  const [pid, start = ''] = text.trim().split(' ')
  return Number.isInteger(Number(pid)) && Number(pid) > 0 ? { pid: Number(pid), start } : undefined
}

/** Once our server there has stopped, this process no longer owns the home: a later sweep may judge it. */
export function releaseOwner(dir: string): void {
  const owner = readOwner(dir)
  if (owner?.pid === process.pid && owner.start === (procStat(process.pid)?.start ?? ''))
    rmSync(join(dir, OWNER_FILE), { force: true })
}

export function ownerAlive(dir: string): boolean {
  const owner = readOwner(dir)
  return owner !== undefined && isAlive(owner)
}

const isAlive = (owner: { pid: number; start: string }) =>
  isRunning(owner.pid) && (procStat(owner.pid)?.start ?? '') === owner.start

/** The PID of a server still running on this cluster: named in postmaster.pid, and its command line names the data directory. */
export function runningPostmaster(clusterDir: string): number | undefined {
  // Written by the server, so by the postgres user: not read through a link, nor if it is not a small regular file.
  const text = readFileNoFollow(join(clusterDir, 'postmaster.pid'))
  if (text === undefined) return undefined
  const pid = Number(text.split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(clusterDir) ? pid : undefined
  } catch {
    return undefined
  }
}

/** Stops the server running on this cluster, if one is, and resolves once it has exited. */
export async function stopPostmaster(clusterDir: string): Promise<void> {
  const pid = runningPostmaster(clusterDir)
  if (pid === undefined) return
  for (const [signal, ms] of STOP_STEPS) {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
    if (await waitFor(() => !isRunning(pid), ms)) return
  }
  throw new Error(`could not stop PostgreSQL process ${pid}`)
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
