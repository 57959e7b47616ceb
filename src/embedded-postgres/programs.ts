// Running PostgreSQL's programs and the system tools: the environment and the user they run as.

import { basename } from 'node:path'

/** Who runs PostgreSQL's programs when this process is root (PostgreSQL refuses root): see os-user.ts. */
export interface OsUser {
  uid: number
  gid: number
}

/** A minimal environment: no LANG/LC_* (the encoding must not depend on the shell) and none of the service's secrets. */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }
  if (process.env.TZ) env.TZ = process.env.TZ
  return env
}

export interface RunOptions {
  /** Run as this user instead of ours. */
  user?: OsUser
  /** In a session of its own, so that a Ctrl-C to this process's group does not reach it. */
  detached?: boolean
}

/** Runs a program to its end and returns what it printed; rejects with that output when it fails. */
export async function runProgram(cmd: string[], { user, detached = false }: RunOptions = {}): Promise<string> {
  const proc = Bun.spawn({
    cmd,
    env: childEnv(),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    detached,
    ...(user && { uid: user.uid, gid: user.gid }),
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  const output = `${stdout}${stderr}`.trim()
  if (code !== 0)
    throw new Error(`${basename(cmd[0] ?? '')} failed with exit code ${code}${output ? `:\n${output}` : ''}`)
  return output
}

export function runSync(cmd: string[]): void {
  const result = Bun.spawnSync({ cmd, stdout: 'pipe', stderr: 'pipe' })
  if (!result.success) throw new Error(`${cmd.join(' ')} failed: ${result.stderr.toString().trim()}`)
}
