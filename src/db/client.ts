import postgres, { type Sql } from 'postgres'
import type { DatabaseConfig } from '../config'
import type { Logger } from '../logger'

/** The one postgres.js pool of the process: made at start, passed to createApp, ended at shutdown. */
export function createSql(url: string, config: DatabaseConfig, logger: Logger): Sql {
  return postgres(url, {
    max: config.poolMax,
    connect_timeout: config.connectTimeoutSeconds,
    idle_timeout: config.idleTimeoutSeconds,
    prepare: config.prepare,
    // The default backoff keeps requests waiting for seconds after the database is back; a short
    // one, capped at half a second, fails fast during an outage and reconnects soon after it.
    backoff: (attempt) => Math.min(0.05 * 2 ** attempt, 0.5),
    connection: {
      application_name: 'users-service',
      // A startup parameter: PgBouncer refuses it unless listed in ignore_startup_parameters, so
      // behind PgBouncer set it to 0 here and on the database role instead (see the README).
      ...(config.statementTimeoutMs > 0 && { statement_timeout: config.statementTimeoutMs }),
    },
    onnotice: (notice) => logger.debug('database notice', { message: notice.message, code: notice.code }),
  })
}
