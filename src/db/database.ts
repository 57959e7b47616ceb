import type { Sql, TransactionSql } from 'postgres'
import type { DatabaseConfig } from '../config'
import { UnavailableError } from '../errors'
import { Gate } from '../gate'
import type { Logger } from '../logger'
import { within } from '../timing'
import { codeOf, domainErrorFor, isConnectionError } from './errors'

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

/** The longest a query's deadline waits for the sweep that notices it. */
const MAX_DEADLINE_TICK_MS = 250

interface RunningQuery {
  began: number
  /** Tells the caller `database_timeout` (once); the query itself runs on. */
  expire(): void
}

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

/**
 * `logger` hears of an outage once, when the database stops answering (with the failure's code,
 * never the URL), and once when it answers again: not once per request.
 */
export function createDatabase(sql: Sql, config: PoolConfig, logger?: Logger): Pool {
  const gate = new Gate({
    permits: config.poolMax,
    maxWaiting: config.queueMax,
    maxWaitMs: config.queueTimeoutMs,
    busy: { code: 'database_busy', message: 'Database busy, try again' },
  })
  // What the last query said about the database, and the queries now running: a ping that finds
  // every permit taken judges by these instead of waiting.
  let reachable = true
  let downSince = -1
  const setReachable = (up: boolean, cause?: unknown) => {
    if (up === reachable) return
    reachable = up
    if (!up) {
      downSince = performance.now()
      logger?.warn('database unreachable', { code: codeOf(cause) ?? 'unknown' })
    } else {
      logger?.info('database reachable again', { down_ms: Math.round(performance.now() - downSince) })
    }
  }
  // Only an answer to a question asked since the outage began says the database is back.
  const answered = (askedAt: number) => {
    if (askedAt > downSince) setReachable(true)
  }
  const failed = (error: unknown) => {
    if (isConnectionError(error)) setReachable(false, error)
  }
  const running = new Set<RunningQuery>()
  const oldestRunningMs = () => Math.max(0, ...[...running].map((query) => performance.now() - query.began))

  // One timer for every running query's deadline, not one per query (measured: ~5% of a by-id
  // read's CPU). A deadline is met late by at most a tick.
  const tickMs = Math.min(MAX_DEADLINE_TICK_MS, Math.max(1, Math.floor(config.queryTimeoutMs / 4)))
  let sweeper: ReturnType<typeof setInterval> | undefined
  const sweep = () => {
    const now = performance.now()
    for (const query of running) if (now - query.began >= config.queryTimeoutMs) query.expire()
  }
  const track = (query: RunningQuery) => {
    running.add(query)
    if (sweeper === undefined && config.queryTimeoutMs > 0) sweeper = setInterval(sweep, tickMs)
  }
  const untrack = (query: RunningQuery) => {
    running.delete(query)
    if (running.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }

  // The caller hears the outcome, or `database_timeout` past the deadline; the permit stays taken
  // until the query really ends.
  const guarded = <T>(work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      gate
        .run(async () => {
          let expired = false
          const query: RunningQuery = {
            began: performance.now(),
            expire() {
              if (expired) return
              expired = true
              const timeout = new UnavailableError('database_timeout', 'Database did not answer in time', 2)
              setReachable(false, timeout)
              reject(timeout)
            },
          }
          track(query)
          try {
            const value = await work()
            if (!expired) answered(query.began)
            resolve(value)
          } catch (error) {
            failed(error)
            reject(explained(error))
          } finally {
            untrack(query)
          }
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
      // A probe that reaches the database tells the outage log too, when no request has.
      const asked = performance.now()
      const probe = gate.runIfFree(() =>
        sql`select 1`.then(
          () => {
            answered(asked)
            return true
          },
          (error) => {
            failed(error)
            throw error
          },
        ),
      )
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
