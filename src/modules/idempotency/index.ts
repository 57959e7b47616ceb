// Idempotency-Key on creating requests (IETF draft-ietf-httpapi-idempotency-key-header): a retry
// of a create whose answer was lost (a 503 at the query deadline can follow a committed write)
// gets the first answer, not a second row. Keys live in PostgreSQL, so every instance sees them,
// and are stored in the creating transaction: a key exists exactly when its row does.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Database } from '../../db/database'
import { sweeperOf } from '../../db/pruning'
import { keyInProgress, keyReused } from './errors'
import { keyOf } from './model'
import type { IdempotencyRepository, KeyScope } from './repository'

/** A creating request as sent with a key: who sent it, what it asked (method and path), its body. */
export interface KeyedRequest extends KeyScope {
  request: string
  body: Record<string, unknown>
}

/** The caller of a request that has none (sign-up): no user has id 0. */
export const NO_CALLER = '0'

/** A keyed request, or undefined when the header is absent. `callerId` '0': no caller (sign-up). */
export function keyedRequest(
  header: string | undefined,
  callerId: string,
  request: string,
  body: Record<string, unknown>,
): KeyedRequest | undefined {
  const key = keyOf(header)
  return key === undefined ? undefined : { key, callerId, request, body }
}

export interface Creation<T> {
  value: T
  /** The answer of an earlier request with the same key, not a new row. */
  replayed: boolean
}

export type Idempotency = ReturnType<typeof createIdempotency>

/**
 * `secretKeys` (SECRET_KEY) key the fingerprints: a stolen table then tells nothing about the
 * bodies, passwords included. The first key makes them and any matches, so rotating keeps retries.
 */
export function createIdempotency({
  db,
  keys,
  secretKeys,
}: {
  db: Database
  keys: IdempotencyRepository
  secretKeys: Uint8Array[]
}) {
  const pruneNowAndThen = sweeperOf(keys.pruneExpired)
  // Bodies are flat objects: their keys, sorted, make the same body the same text.
  const fingerprints = ({ request, body }: KeyedRequest) =>
    secretKeys.map((secret) =>
      createHmac('sha256', secret)
        .update(`${request}\n${JSON.stringify(body, Object.keys(body).sort())}`)
        .digest(),
    )

  return {
    /**
     * Runs `write` once per key: without a key, as it is; with one, in a transaction that also
     * stores its answer, or answers the stored one. A key in use by a running request is 409, a key
     * used for another request 422; a failed write stores nothing, so its retry runs again.
     */
    async create<T>(request: KeyedRequest | undefined, write: (db: Database) => Promise<T>): Promise<Creation<T>> {
      if (request === undefined) return { value: await write(db), replayed: false }
      const prints = fingerprints(request)
      const creation = await db.transaction(async (tx): Promise<Creation<T>> => {
        const held = keys.on(tx)
        if (!(await held.lock(request))) throw keyInProgress()
        const stored = await held.find(request)
        if (stored !== undefined) {
          const same = prints.some((print) => timingSafeEqual(print, stored.fingerprint))
          if (!same) throw keyReused()
          return { value: stored.body as T, replayed: true }
        }
        const value = await write(tx)
        await held.record(request, prints[0]!, value)
        return { value, replayed: false }
      })
      pruneNowAndThen()
      return creation
    },
  }
}
