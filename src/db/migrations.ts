// Migrations are dbmate's SQL files in db/migrations. dbmate applies them (deploy step, embedded
// start, tests); the service itself only checks at start that none is pending.

import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { resolveBinary } from 'dbmate'
import type { Sql } from 'postgres'

export const PROJECT_DIR = join(import.meta.dir, '..', '..')
export const MIGRATIONS_DIR = join(PROJECT_DIR, 'db', 'migrations')
export const SCHEMA_FILE = join(PROJECT_DIR, 'db', 'schema.sql')

export interface DbmateResult {
  exitCode: number
  output: string
}

/**
 * Runs dbmate with the project's folders. The URL goes in the child's environment, not its
 * arguments, so the password never shows in a process list.
 */
export async function runDbmate(
  args: string[],
  url?: string,
  options: { stdio?: 'inherit' | 'pipe'; schemaFile?: string } = {},
): Promise<DbmateResult> {
  const child = Bun.spawn(
    [resolveBinary(), '--migrations-dir', MIGRATIONS_DIR, '--schema-file', options.schemaFile ?? SCHEMA_FILE, ...args],
    {
      cwd: PROJECT_DIR,
      env: { ...process.env, ...(url !== undefined && { DATABASE_URL: url }) },
      stdin: 'ignore',
      stdout: options.stdio ?? 'pipe',
      stderr: options.stdio ?? 'pipe',
    },
  )
  const [output, errors, exitCode] = await Promise.all([
    child.stdout ? new Response(child.stdout).text() : '',
    child.stderr ? new Response(child.stderr).text() : '',
    child.exited,
  ])
  return { exitCode, output: (output + errors).trim() }
}

/** Applies every pending migration (creating the database if needed); throws with dbmate's output on failure. */
export async function applyMigrations(url: string): Promise<string[]> {
  const result = await runDbmate(['--wait', '--no-dump-schema', 'up'], url)
  if (result.exitCode !== 0) throw new Error(`dbmate up failed:\n${result.output}`)
  // dbmate prints "Applied: <file> in <duration>" per migration.
  return [...result.output.matchAll(/^Applied: (\S+)/gm)].map((match) => match[1]!)
}

/** The migration files not yet recorded in dbmate's `schema_migrations` table. */
export async function pendingMigrations(sql: Sql): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((name) => /^\d+_.*\.sql$/.test(name)).sort()
  const [{ exists }] = await sql<[{ exists: boolean }]>`select to_regclass('schema_migrations') is not null as exists`
  const applied = new Set(
    exists ? (await sql<{ version: string }[]>`select version from schema_migrations`).map((row) => row.version) : [],
  )
  return files.filter((name) => !applied.has(name.split('_')[0]!))
}
