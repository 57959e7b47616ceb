// Running initdb, postgres and the system tools: the environment and user they run with, and their output.

import { basename } from 'node:path'
import { forEachLine } from '../../lines'
import type { Logger } from '../../logger'
import type { OsUser } from './os-user'

const LOG_TAIL = 20

type Pipe = ReadableStream<Uint8Array>
export interface Output {
  lines: string[]
  done: Promise<void>
}

/** A minimal environment: no LANG/LC_* (the encoding must not depend on the shell) and none of the service's secrets. */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }
  if (process.env.TZ) env.TZ = process.env.TZ
  return env
}

export function asUser(user: OsUser | undefined): { uid?: number; gid?: number } {
  return user ? { uid: user.uid, gid: user.gid } : {}
}

export async function runProgram(cmd: string[], user: OsUser | undefined, logger: Logger): Promise<void> {
  const name = basename(cmd[0] ?? '')
  const proc = Bun.spawn({ cmd, env: childEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', ...asUser(user) })
  const output = captureOutput(proc.stdout, proc.stderr, name, logger)
  const code = await proc.exited
  await output.done
  if (code !== 0) throw new Error(withLog(`${name} failed with exit code ${code}`, output.lines))
}

export function runSync(cmd: string[]): void {
  const result = Bun.spawnSync({ cmd, stdout: 'pipe', stderr: 'pipe' })
  if (!result.success) throw new Error(`${cmd.join(' ')} failed: ${result.stderr.toString().trim()}`)
}

/** Forwards each line to logger.debug (never the service's stdout) and keeps the last ones for error messages. */
export function captureOutput(stdout: Pipe, stderr: Pipe, source: string, logger: Logger): Output {
  const lines: string[] = []
  const onLine = (line: string) => {
    if (!line) return
    lines.push(line)
    if (lines.length > LOG_TAIL) lines.shift()
    logger.debug(line, { source })
  }
  const done = Promise.all([forEachLine(stdout, onLine), forEachLine(stderr, onLine)]).then(() => undefined)
  return { lines, done }
}

export function withLog(message: string, lines: string[]): string {
  return lines.length > 0 ? `${message}; last PostgreSQL log lines:\n${lines.join('\n')}` : message
}
