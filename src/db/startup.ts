// Waiting for the database at start: a service started before its database (containers starting
// together, a database restarting) keeps trying instead of exiting, until the database answers
// with every migration applied or DATABASE_START_TIMEOUT_SECONDS runs out.
import type { Sql } from 'postgres'
import type { Logger } from '../logger'
import { within } from '../timing'
import { codeOf, isConnectionError } from './errors'
import { pendingMigrations } from './migrations'

const RETRY_SECONDS = 0.5

/** Where a database is, for people: host, port and name, never its user or password. */
export function describeDatabase(url: string): string {
  const { hostname, port, pathname } = new URL(url)
  return `${hostname}:${port || 5432}${pathname}`
}

export interface StartWait {
  url: string
  timeoutSeconds: number
  /** How long one try may take: a connection that never answers must not hold up the next. */
  tryTimeoutMs: number
  logger: Logger
  /** True once the service is stopping: the wait ends at once. */
  stopping: () => boolean
}

/**
 * Resolves once the database answers and has no pending migration; logs what it waits for each time
 * that changes. Past the timeout, throws naming the database and what was wrong. A failure that
 * waiting cannot mend (a wrong password, say) throws at once.
 */
export async function waitForDatabase(sql: Sql, wait: StartWait): Promise<void> {
  const deadline = performance.now() + wait.timeoutSeconds * 1000
  let reported: string | undefined
  for (;;) {
    let problem: string
    try {
      const outcome = await within(pendingMigrations(sql), wait.tryTimeoutMs)
      if (outcome.done && outcome.value.length === 0) {
        if (reported) wait.logger.info('the database is ready')
        return
      }
      problem = outcome.done
        ? `pending migrations (${outcome.value.join(', ')}): run \`bun run db:migrate\``
        : 'no answer in time'
    } catch (error) {
      if (!isConnectionError(error)) throw error
      problem = `unreachable (${codeOf(error)})`
    }
    if (problem !== reported) {
      wait.logger.warn('waiting for the database', { database: describeDatabase(wait.url), problem })
      reported = problem
    }
    if (wait.stopping()) return
    const left = deadline - performance.now()
    if (left <= 0) {
      throw new Error(
        `The database at ${describeDatabase(wait.url)} was not ready within DATABASE_START_TIMEOUT_SECONDS (${wait.timeoutSeconds} s): ${problem}`,
      )
    }
    await Bun.sleep(Math.min(RETRY_SECONDS * 1000, left))
  }
}
