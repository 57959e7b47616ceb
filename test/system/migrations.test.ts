// The migrations are real both ways, and db/schema.sql is what they produce.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { runDbmate, SCHEMA_FILE } from '../../src/db/migrations'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'

const tables = async (url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<{ name: string }[]>`
      select table_name as name from information_schema.tables where table_schema = 'public' and table_name <> 'schema_migrations' order by 1`
    return rows.map((r) => r.name)
  } finally {
    await sql.end()
  }
}

describe('migrations', () => {
  let scratch: ScratchDatabase
  beforeAll(async () => {
    scratch = await createScratchDatabase()
  })
  afterAll(() => scratch?.drop())

  test('go up, all the way down, and up again', async () => {
    const up = async () => expect((await runDbmate(['--no-dump-schema', 'up'], scratch.url)).exitCode).toBe(0)
    const down = async () => expect((await runDbmate(['--no-dump-schema', 'rollback'], scratch.url)).exitCode).toBe(0)
    const all = [
      'idempotency_keys',
      'items',
      'login_attempts',
      'row_counts',
      'sessions',
      'spent_refresh_tokens',
      'users',
    ]
    const beforeKeys = all.filter((table) => table !== 'idempotency_keys')
    await up()
    expect(await tables(scratch.url)).toEqual(all)
    await down()
    expect(await tables(scratch.url)).toEqual(beforeKeys)
    await down()
    expect(await tables(scratch.url)).toEqual(beforeKeys)
    await down()
    expect(await tables(scratch.url)).toEqual(['items', 'login_attempts', 'sessions', 'spent_refresh_tokens', 'users'])
    await down()
    expect(await tables(scratch.url)).toEqual(['items', 'users'])
    await down()
    expect(await tables(scratch.url)).toEqual(['users'])
    await down()
    expect(await tables(scratch.url)).toEqual([])
    await up()
    expect(await tables(scratch.url)).toEqual(all)
  })

  test('rows from before the accounts migration keep working (ordinary, active, no name) and are counted', async () => {
    expect((await runDbmate(['--no-dump-schema', 'up'], scratch.url)).exitCode).toBe(0)
    for (const _ of ['idempotency_keys', 'items_per_user', 'row_counts', 'accounts'])
      expect((await runDbmate(['--no-dump-schema', 'rollback'], scratch.url)).exitCode).toBe(0)
    const sql = postgres(scratch.url, { max: 1, onnotice: () => {} })
    try {
      await sql`insert into users (email, hashed_password) values ('before@example.com', 'x')`
      await sql`insert into items (title, owner_id) select 'before', id from users where email = 'before@example.com'`
      expect((await runDbmate(['--no-dump-schema', 'up'], scratch.url)).exitCode).toBe(0)
      const [row] = await sql`select is_active, is_superuser, full_name from users where email = 'before@example.com'`
      expect(row).toEqual({ is_active: true, is_superuser: false, full_name: null })
      const counts = await sql`
        select table_name, sum(count)::int as n from row_counts group by table_name order by table_name`
      const [{ users }] = await sql<[{ users: number }]>`select count(*)::int as users from users`
      const [{ items }] = await sql<[{ items: number }]>`select count(*)::int as items from items`
      expect([...counts]).toEqual([
        { table_name: 'items', n: items },
        { table_name: 'users', n: users },
      ])
      const [before] = await sql`select items_count::int from users where email = 'before@example.com'`
      expect(before).toEqual({ items_count: 1 })
    } finally {
      await sql.end()
    }
  })
})

// dbmate dumps with pg_dump, which must match the server's major version (15).
const pgDump = Bun.spawnSync(['pg_dump', '--version'], { stdout: 'pipe', stderr: 'pipe' })
const pgDumpVersion = pgDump.success ? pgDump.stdout.toString().match(/(\d+)\.\d+/)?.[1] : undefined
const canDump = pgDumpVersion === '15'
if (!canDump && process.env.CI !== 'true')
  console.warn('skipping the schema.sql check: pg_dump 15 not found on PATH (apt-get install -y postgresql-client-15)')

describe('db/schema.sql', () => {
  test.skipIf(!canDump && process.env.CI !== 'true')(
    'is what the migrations produce (regenerate with `bun run db:dump`)',
    async () => {
      expect(pgDumpVersion).toBe('15')
      const scratch = await createScratchDatabase({ migrated: true })
      const dir = mkdtempSync(join(tmpdir(), 'schema-'))
      try {
        const file = join(dir, 'schema.sql')
        const result = await runDbmate(['dump'], scratch.url, { schemaFile: file })
        expect(result.exitCode).toBe(0)
        // Only the server's and pg_dump's version strings may differ.
        const comparable = (text: string) => text.replace(/^-- Dumped (from|by) .*$/gm, '')
        expect(comparable(readFileSync(file, 'utf8'))).toBe(comparable(readFileSync(SCHEMA_FILE, 'utf8')))
      } finally {
        rmSync(dir, { recursive: true, force: true })
        await scratch.drop()
      }
    },
  )
})
