// Runs once before all test files: a database for the whole run, migrated as in production.
// TEST_DATABASE_URL, when set, is used as it is (tests only ever delete rows they made);
// otherwise a throwaway embedded PostgreSQL is started and stopped when the run ends, also when
// the run is interrupted (Ctrl-C, a CI timeout's SIGTERM): the cluster runs detached, in its own
// process group, so nothing else would stop it until the next run's sweep.
//
// Every run uses the same data folder (sharedDataDir), each with a throwaway cluster of its own in it:
// a run killed with SIGKILL never stops its cluster, and the next run's sweep, which looks at the
// throwaway homes of its own data folder (and, as root, at /var/tmp), stops and removes it since its
// owner is dead. Runs in progress are left alone: their owner is alive.
import { afterAll } from 'bun:test'
import { lstatSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyMigrations } from '../src/db/migrations'
import { startEmbeddedPostgres } from '../src/embedded-postgres'
import { createLogger } from '../src/logger'
import { within } from '../src/timing'
import { printReport } from './support/resilience-report'

afterAll(printReport)

/** How long an interrupted run waits for its cluster to stop before exiting anyway (the next run's sweep removes it then). */
const STOP_ON_SIGNAL_MS = 5_000

/**
 * `<tmpdir>/users-service-tests-<uid>`, 0700, created if missing. The temporary folder is shared with
 * every user: a folder (or symlink) someone else put there under that name is refused, never used.
 */
function sharedDataDir(): string {
  const uid = process.getuid?.() ?? 0
  const dir = join(tmpdir(), `users-service-tests-${uid}`)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const stat = lstatSync(dir)
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new Error(
      `${dir} is not a private folder of this user (a folder owned by uid ${uid}, mode 0700); remove it, or set TEST_DATABASE_URL`,
    )
  }
  return dir
}

if (!process.env.TEST_DATABASE_URL) {
  const dataDir = sharedDataDir()
  const logger = createLogger({ level: 'warn', json: false })
  const cluster = await startEmbeddedPostgres({ dataDir, persistent: false, logger })
  process.env.TEST_DATABASE_URL = cluster.url
  let stopping: Promise<void> | undefined
  // stop() removes the cluster's own home; the shared data folder stays, for the next runs.
  const stop = () => (stopping ??= cluster.stop())
  afterAll(stop)

  let interrupted = false
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) return // a second Ctrl-C while stopping: the stop is bounded anyway
    interrupted = true
    const stopped = stop().catch((error: unknown) =>
      logger.warn('could not stop the test PostgreSQL', { signal, error: String(error) }),
    )
    void within(stopped, STOP_ON_SIGNAL_MS).then(({ done }) => {
      if (!done) logger.warn('the test PostgreSQL did not stop in time; the next run removes it', { signal })
      process.exit(code)
    })
  }
  process.on('SIGINT', () => onSignal('SIGINT', 130))
  process.on('SIGTERM', () => onSignal('SIGTERM', 143))
}

await applyMigrations(process.env.TEST_DATABASE_URL!)
