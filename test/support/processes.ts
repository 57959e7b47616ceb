// PostgreSQL processes as /proc shows them, for tests that check what runs and what was stopped.
import { readdirSync, readFileSync } from 'node:fs'
import { waitFor } from './wait'

interface Process {
  pid: number
  ppid: number
  args: string[]
}

/** Live processes (zombies are gone, for our purposes: where PID 1 does not reap, a dead server stays one). */
function processes(): Process[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        if (stat.includes(') Z ')) return []
        // The parent's PID is the second field after the command, which is in parentheses.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        return [{ pid: Number(pid), ppid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') }]
      } catch {
        return [] // gone while we looked
      }
    })
}

export function isRunning(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
  } catch {
    return false
  }
}

/** The live processes `pid` started: a postmaster's backends and workers, whose command lines name no folder. */
export function childrenOf(pid: number): number[] {
  return processes()
    .filter(({ ppid }) => ppid === pid)
    .map((child) => child.pid)
}

/** PIDs of PostgreSQL processes (the server, its children, initdb's) whose command line names `home`. */
export function postgresProcessesFor(home: string): number[] {
  return processes()
    .filter(({ args }) => args.some((arg) => arg.includes('postgres')) && args.some((arg) => arg.includes(home)))
    .map(({ pid }) => pid)
}

/** Every server started from a platform package's programs: its data folder (`-D`) and port (`-p`). */
export function postmasters(): { pid: number; dir: string; port: string }[] {
  return processes().flatMap(({ pid, args }) => {
    const value = (flag: string) => args[args.indexOf(flag) + 1]
    return args[0]?.endsWith('/bin/postgres') && args.includes('-D') && args.includes('-p')
      ? [{ pid, dir: value('-D')!, port: value('-p')! }]
      : []
  })
}

/** Resolves once no PostgreSQL process of `home` is left (a stopped server may take a moment to go). */
export async function noPostgresLeft(home: string): Promise<void> {
  await waitFor(`no PostgreSQL process left in ${home}`, () => postgresProcessesFor(home).length === 0, {
    timeoutMs: 5_000,
  })
}
