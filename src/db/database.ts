import type { Sql, TransactionSql } from 'postgres'
import type { DatabaseConfig } from '../config'
import { UnavailableError } from '../errors'
import { Gate } from '../gate'
import { within } from '../timing'
import { domainErrorFor, isConnectionError } from './errors'

/** What repository SQL runs on: the pool, or a transaction's connection. */
export type Queryable = Sql | TransactionSql

/** What repositories are built on: the gated pool, or one transaction of it. */
export interface Database {
  /** Runs one or more statements. On the pool this holds one permit; in a transaction, none more. */
  query<T>(run: (sql: Queryable) => Promise<T>): Promise<T>
  /**
   * Runs `run` all or nothing, on one connection: build repositories on `tx` to compose them.
   * On the pool this holds one permit from begin to end; in a transaction it is a savepoint.
   */
  transaction<T>(run: (tx: Database) => Promise<T>): Promise<T>
}

/**
 * The pool behind a gate: never more queries in flight than the pool has connections, because
 * postgres.js's own queue slows down and grows without bound under saturation. Waiting is bounded
 * in length and time; past it, `database_busy`. A query that has its connection but gets no answer
 * within `queryTimeoutMs` (a stalled server or network, where `statement_timeout` cannot act) is
 * `database_timeout`; its permit is only given back once the query really ends, so the pool is never
 * oversubscribed. Failures the database layer can explain leave it as domain errors (db/errors.ts).
 */
export interface Pool extends Database {
  /** Whether the database answers; never waits behind the gate. */
  ping(timeoutMs?: number): Promise<boolean>
  readonly gate: Gate
}

type PoolConfig = Pick<DatabaseConfig, 'poolMax' | 'queueMax' | 'queueTimeoutMs' | 'queryTimeoutMs'>

/** How long a ping waits for the database, and how long a query may hang before readiness says no. */
export const PING_TIMEOUT_MS = 2000

/** A failure as its domain error when the database layer can explain it, else as it was. */
const explained = (error: unknown) => domainErrorFor(error) ?? error

/** A Database bound to one transaction's connection. */
function inTransaction(tx: TransactionSql): Database {
  return {
    query: (run) =>
      run(tx).catch((error) => {
        throw explained(error)
      }),
    transaction: (run) =>
      tx.savepoint((inner) => run(inTransaction(inner))) as Promise<Awaited<ReturnType<typeof run>>>,
  }
}

export function createDatabase(sql: Sql, config: PoolConfig): Pool {
  const gate = new Gate({
    permits: config.poolMax,
    maxWaiting: config.queueMax,
    maxWaitMs: config.queueTimeoutMs,
    busy: { code: 'database_busy', message: 'Database busy, try again' },
  })
  // What the last query said about the database, and when the queries now running began: a
  // ping that finds every permit taken judges by these instead of waiting.
  let reachable = true
  const running = new Set<{ began: number }>()
  const oldestRunningMs = () => Math.max(0, ...[...running].map((query) => performance.now() - query.began))

  const guarded = <T>(work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      gate
        .run(async () => {
          const query = { began: performance.now() }
          running.add(query)
          const pending = (async () => work())()
            .then(
              (value) => {
                reachable = true
                return value
              },
              (error) => {
                if (isConnectionError(error)) reachable = false
                throw error
              },
            )
            .finally(() => running.delete(query))
          if (config.queryTimeoutMs === 0) return resolve(await pending)
          const outcome = await within(pending, config.queryTimeoutMs)
          if (outcome.done) return resolve(outcome.value)
          reachable = false
          reject(new UnavailableError('database_timeout', 'Database did not answer in time', 2))
          await pending.catch(() => {})
        })
        .catch((error) => reject(explained(error)))
    })

  return {
    gate,
    query: (run) => guarded(() => run(sql)),
    transaction: (run) =>
      guarded(() => sql.begin((tx) => run(inTransaction(tx))) as Promise<Awaited<ReturnType<typeof run>>>),
    async ping(timeoutMs = PING_TIMEOUT_MS) {
      // Every permit taken: ready if the database answered last and nothing has hung for long.
      const busy = () => reachable && oldestRunningMs() < timeoutMs
      const probe = gate.runIfFree(() => sql`select 1`.then(() => true))
      const outcome = await within(
        probe.then(
          (answer) => answer ?? busy(),
          () => false,
        ),
        timeoutMs,
      )
      return outcome.done && outcome.value
    },
  }
}
