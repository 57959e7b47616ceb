// What the embedded PostgreSQL tests share: temporary projects, a recording logger, clusters they start
// (stopped and removed after each file), and ways to look at the server processes.
import { afterAll } from 'bun:test'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from '../../src/embedded-postgres'
import type { Logger } from '../../src/logger'

export const isRoot = process.getuid?.() === 0
/** Root-only tests run as root, and must run under CI; elsewhere they are skipped, with a warning. */
export const skipUnlessRoot = !isRoot && process.env.CI !== 'true'
export const RELOCATED = '/var/tmp/users-service-pg-'
export const TIMEOUT = 30_000
export const HOUR = 3_600_000
export const DAY = 24 * HOUR
/** How long a relocated home whose project is gone is kept after its last start (homes.ts). */
export const GRACE = 7 * DAY

/**
 * Folders and clusters for one test file, removed (and stopped) after it. Relocated homes of persistent
 * clusters outlive stop(); their projects are gone by then.
 */
export function clusterKit() {
  const servers: EmbeddedPostgres[] = []
  const folders: string[] = []
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()))
    for (const dir of folders) rmSync(dir, { recursive: true, force: true })
    for (const server of servers)
      if (server.clusterDir.startsWith(RELOCATED)) rmSync(dirname(server.clusterDir), { recursive: true, force: true })
  })
  return {
    /** A fresh folder; 0700 (mkdtemp's mode) is one the postgres OS user cannot enter. */
    tempFolder(mode = 0o700): string {
      const dir = mkdtempSync(join(tmpdir(), 'embedded-pg-test-'))
      chmodSync(dir, mode)
      folders.push(dir)
      return dir
    },
    /** Removed after the file, like the folders made here. */
    track(dir: string): void {
      folders.push(dir)
    },
    async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
      const server = await startEmbeddedPostgres(options)
      servers.push(server)
      return server
    },
  }
}

export function recordingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = []
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`)
  }
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    text: () => lines.join('\n'),
  }
}

export async function withSql<T>(url: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return await use(sql)
  } finally {
    await sql.end()
  }
}

export async function setting(url: string, name: string): Promise<string> {
  return withSql(url, async (sql) => (await sql.unsafe(`show ${name}`))[0]?.[name] as string)
}

export function mode(path: string): number {
  return statSync(path).mode & 0o777
}

export function postgresUid(): number {
  return Number(Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString())
}

export function postgresGid(): number {
  return Number(Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString())
}

/** Sets when a home was last started (its home.json's mtime), `ago` ms before now. */
export function lastStarted(home: string, ago: number): void {
  const then = new Date(Date.now() - ago)
  utimesSync(join(home, 'home.json'), then, then)
}

export function postmasterPid(clusterDir: string): number {
  return Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0])
}

/** The first capture of pattern in what the stream prints. */
export async function firstMatch(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true })
    const match = text.match(pattern)
    if (match) return match[1]!
  }
  throw new Error(`the test run ended without printing ${pattern}:\n${text}`)
}
