// Processes seen through /proc: the owner recorded in a home, servers left running (orphans), stopping a
// process with escalating signals, and waiting for it.

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../logger'
import { ourUids, readFileNoFollow, writeFileNoFollow } from './files'

const OWNER_FILE = 'postgres.owner'
// Fast shutdown first; immediate shutdown (SIGQUIT, which still stops the children) and SIGKILL only if it hangs.
const STOP_STEPS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
  ['SIGINT', 15_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
]

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

/** PID and start time, so that a reused PID is not mistaken for the owner. The home may be the postgres user's: see files.ts. */
export function writeOwner(dir: string): void {
  writeFileNoFollow(join(dir, OWNER_FILE), `${process.pid} ${procStat(process.pid)?.start ?? ''}\n`)
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
  return owner !== undefined && isRunning(owner.pid) && (procStat(owner.pid)?.start ?? '') === owner.start
}

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

/** The live process running this cluster (the service, or a `db:*` command) and its postmaster; undefined when none. */
export function clusterOwner(home: string, clusterDir: string): { pid: number; postmaster: number } | undefined {
  const postmaster = runningPostmaster(clusterDir)
  if (postmaster === undefined || !ownerAlive(home)) return undefined
  return { pid: readOwner(home)!.pid, postmaster }
}

/** A server left running by a `kill -9` of an earlier service is stopped; one whose service still runs is not. */
export async function stopOrphan(home: string, clusterDir: string, logger: Logger): Promise<void> {
  const owner = clusterOwner(home, clusterDir)
  if (owner)
    throw new Error(
      `the PostgreSQL cluster in ${clusterDir} is in use by process ${owner.pid} (another instance of the service?)`,
    )
  const pid = runningPostmaster(clusterDir)
  if (pid === undefined) return
  logger.warn('stopping a PostgreSQL server left running by an earlier run of the service', { pid, clusterDir })
  await stopPid(pid)
}

export async function stopPid(pid: number): Promise<void> {
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

export async function shutDown(
  signal: (name: NodeJS.Signals) => void,
  exitsWithin: (ms: number) => Promise<boolean>,
): Promise<boolean> {
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
