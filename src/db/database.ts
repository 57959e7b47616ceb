import type { Sql, TransactionSql } from 'postgres'
import type { DatabaseConfig } from '../config'
import { Gate } from '../gate'
import { isConnectionError } from './errors'

export type Queryable = Sql | TransactionSql

/**
 * The pool behind a gate: never more queries in flight than the pool has connections, because
 * postgres.js's own queue slows down and grows without bound under saturation. A transaction
 * holds one permit from begin to end. Waiting is bounded in length and time; past it, a 503.
 */
export interface Database {
  /** Runs one or more statements on the pool, holding one permit. */
  query<T>(run: (sql: Sql) => Promise<T>): Promise<T>
  /** Runs `run` in one transaction (all or nothing), holding one permit. */
  transaction<T>(run: (tx: TransactionSql) => Promise<T>): Promise<T>
  /** Whether the database answers; never waits behind the gate. */
  ping(timeoutMs?: number): Promise<boolean>
  readonly gate: Gate
}

export function createDatabase(sql: Sql, config: Pick<DatabaseConfig, 'poolMax' | 'queueMax' | 'queueTimeoutMs'>): Database {
  const gate = new Gate({
    permits: config.poolMax,
    maxWaiting: config.queueMax,
    maxWaitMs: config.queueTimeoutMs,
    busyDetail: 'Database busy, try again',
  })
  // What the last finished query said about the database, for a ping that finds every permit taken.
  let reachable = true
  const track = async <T>(work: Promise<T>): Promise<T> => {
    try {
      const result = await work
      reachable = true
      return result
    } catch (error) {
      if (isConnectionError(error)) reachable = false
      throw error
    }
  }

  return {
    gate,
    query: (run) => gate.run(() => track(run(sql))),
    transaction: (run) => gate.run(() => track(sql.begin(run) as Promise<Awaited<ReturnType<typeof run>>>)),
    async ping(timeoutMs = 2000) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
      const probe = gate
        .runIfFree(() => track(sql`select 1`))
        .then((answer) => (answer === undefined ? reachable : true))
        .catch(() => false)
      try {
        return await Promise.race([probe, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
