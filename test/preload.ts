// Runs once before all test files: a database for the whole run, migrated as in production.
// TEST_DATABASE_URL, when set, is used as it is (tests only ever delete rows they made);
// otherwise a throwaway embedded PostgreSQL is started and stopped when the run ends, also when
// the run is interrupted (Ctrl-C, a CI timeout's SIGTERM): the cluster runs detached, in its own
// process group, so nothing else would stop it until the next run's sweep.
import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../src/db/embedded'
import { applyMigrations } from '../src/db/migrations'
import { createLogger } from '../src/logger'
import { within } from '../src/timing'

/** How long an interrupted run waits for its cluster to stop before exiting anyway (the next run's sweep removes it then). */
const STOP_ON_SIGNAL_MS = 5_000

if (!process.env.TEST_DATABASE_URL) {
  const dataDir = mkdtempSync(join(tmpdir(), 'users-service-test-'))
  const logger = createLogger({ level: 'warn', json: false })
  const cluster = await startEmbeddedPostgres({ dataDir, persistent: false, logger })
  process.env.TEST_DATABASE_URL = cluster.url
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= cluster.stop().then(() => rmSync(dataDir, { recursive: true, force: true })))
  afterAll(stop)

  let interrupted = false
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) return // a second Ctrl-C while stopping: the stop is bounded anyway
    interrupted = true
    const stopped = stop().catch((error: unknown) => logger.warn('could not stop the test PostgreSQL', { signal, error: String(error) }))
    void within(stopped, STOP_ON_SIGNAL_MS).then(({ done }) => {
      if (!done) logger.warn('the test PostgreSQL did not stop in time; the next run removes it', { signal })
      process.exit(code)
    })
  }
  process.on('SIGINT', () => onSignal('SIGINT', 130))
  process.on('SIGTERM', () => onSignal('SIGTERM', 143))
}

await applyMigrations(process.env.TEST_DATABASE_URL!)
