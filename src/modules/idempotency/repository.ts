// SQL for idempotency keys. Every statement but the prune runs inside the creating request's
// transaction, at READ COMMITTED: each statement sees what committed before it began.
import type { Database } from '../../db/database'
import { KEY_LIFETIME_HOURS } from './model'

/** Whose key it is: a user id, or '0' for a request without a caller. */
export interface KeyScope {
  callerId: string
  key: string
}

export interface StoredAnswer {
  fingerprint: Uint8Array
  body: unknown
}

const lifetime = `${KEY_LIFETIME_HOURS} hours`

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>

export function createIdempotencyRepository(db: Database) {
  return {
    /** The same statements on `tx`, to run in one transaction with the write. */
    on: (tx: Database) => createIdempotencyRepository(tx),

    /**
     * Takes the key until the transaction ends; false if another transaction has it. A lock of its
     * own, before the read: a read in the same statement could miss a row committed while it waited.
     */
    async lock({ callerId, key }: KeyScope): Promise<boolean> {
      const [row] = await db.query(
        (sql) => sql<[{ locked: boolean }]>`
          select pg_try_advisory_xact_lock(hashtextextended(${callerId} || '/' || ${key}, 0)) as locked
        `,
      )
      return row.locked
    },

    /** The answer stored for the key, if it has not expired. Call after `lock`. */
    async find({ callerId, key }: KeyScope): Promise<StoredAnswer | undefined> {
      const [row] = await db.query(
        (sql) => sql<StoredAnswer[]>`
          select fingerprint, body from idempotency_keys
          where caller_id = ${callerId} and key = ${key} and created_at > now() - ${lifetime}::interval
        `,
      )
      return row
    },

    /** Stores the answer, replacing an expired one under the same key. */
    async record({ callerId, key }: KeyScope, fingerprint: Uint8Array, body: unknown): Promise<void> {
      await db.query(
        (sql) => sql`
          insert into idempotency_keys (caller_id, key, fingerprint, body)
          values (${callerId}, ${key}, ${fingerprint}, ${JSON.stringify(body)}::text::json)
          on conflict (caller_id, key) do update
            set fingerprint = excluded.fingerprint, body = excluded.body, created_at = excluded.created_at
        `,
      )
    },

    /** Drops up to `batch` expired keys; rows a transaction holds are left for the next sweep. */
    async pruneExpired(batch: number): Promise<number> {
      const result = await db.query(
        (sql) => sql`
          delete from idempotency_keys where ctid = any(array(
            select ctid from idempotency_keys where created_at <= now() - ${lifetime}::interval
            limit ${batch} for update skip locked
          ))
        `,
      )
      return result.count
    },
  }
}
