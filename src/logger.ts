// One logger for the whole service: JSON lines in production, short readable lines in development.
// Callers pass structured fields; nothing here ever serialises a request body.

import { writeSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 }

export interface LoggerOptions {
  level: LogLevel
  json: boolean
  write?: (line: string) => void
}

/**
 * Standard output, written once per turn of the event loop: under load the access lines of many
 * requests go out in one system call instead of one each. What is pending when the process exits
 * is written before it goes.
 */
function batchedStdout(): (line: string) => void {
  let pending = ''
  const flush = () => {
    if (pending === '') return
    const text = pending
    pending = ''
    process.stdout.write(text)
  }
  process.once('exit', () => {
    if (pending !== '') writeSync(1, pending)
  })
  return (line) => {
    if (pending === '') setImmediate(flush)
    pending += `${line}\n`
    if (pending.length >= 64 * 1024) flush()
  }
}

let stdout: ((line: string) => void) | undefined
const toStdout = (line: string) => {
  stdout ??= batchedStdout()
  stdout(line)
}

export function createLogger({ level, json, write = toStdout }: LoggerOptions): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (rank[lvl] < rank[level]) return
    const time = new Date().toISOString()
    if (json) {
      write(JSON.stringify({ time, level: lvl, msg, ...fields }))
      return
    }
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
      : ''
    write(`${time.slice(11, 23)} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`)
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  }
}

/** Error details for a log line: name, message, code and stack, never the query parameters postgres.js keeps. */
export function describeError(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) }
  const code = (error as { code?: unknown }).code
  return {
    error: error.name,
    message: error.message,
    code: typeof code === 'string' ? code : undefined,
    stack: error.stack,
  }
}
