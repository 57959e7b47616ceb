// Runs once before all test files: a database for the whole run, migrated as in production.
// TEST_DATABASE_URL, when set, is used as it is (tests only ever delete rows they made);
// otherwise a throwaway embedded PostgreSQL is started and stopped when the run ends.
import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../src/db/embedded'
import { applyMigrations } from '../src/db/migrations'
import { createLogger } from '../src/logger'

if (!process.env.TEST_DATABASE_URL) {
  const dataDir = mkdtempSync(join(tmpdir(), 'users-service-test-'))
  const cluster = await startEmbeddedPostgres({
    dataDir,
    persistent: false,
    logger: createLogger({ level: 'warn', json: false }),
  })
  process.env.TEST_DATABASE_URL = cluster.url
  afterAll(async () => {
    await cluster.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
}

await applyMigrations(process.env.TEST_DATABASE_URL!)
