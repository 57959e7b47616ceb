// Idempotency-Key on creating requests (IETF draft-ietf-httpapi-idempotency-key-header): a retry
// of a create whose answer was lost (a 503 at the query deadline can follow a committed write)
// gets the first answer, not a second row. Keys live in PostgreSQL, so every instance sees them,
// and are stored in the creating transaction: a key exists exactly when its row does.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Database } from '../../db/database'
import { sweeperOf } from '../../db/pruning'
import { keyInProgress, keyReused, keyStale } from './errors'
import { keyOf } from './model'
import type { IdempotencyRepository, KeyScope } from './repository'

/** A creating request as sent with a key: who sent it, what it asked (method and path), its body. */
export interface KeyedRequest extends KeyScope {
  request: string
  body: unknown
}

/** The caller of a request that has none (sign-up): no user has id 0. */
export const NO_CALLER = '0'

/** A keyed request, or undefined when the header is absent. `callerId` NO_CALLER: sign-up. */
export function keyedRequest(
  header: string | undefined,
  callerId: string,
  request: string,
  body: unknown,
): KeyedRequest | undefined {
  const key = keyOf(header)
  return key === undefined ? undefined : { key, callerId, request, body }
}

export interface Creation<T> {
  value: T
  /** The answer of an earlier request with the same key, not a new row. */
  replayed: boolean
}

export interface CreateOptions {
  /** The schema of the answer: a stored one that no longer fits it (a deploy changed it) is not replayed. */
  answer: TSchema
  /**
   * Throws as the write would (401, 403) for a caller who may not make it: run before a key is
   * looked at, so a replay tells no more than the write would have, to anyone.
   */
  authorize?: () => Promise<void>
}

/** JSON with every object's keys sorted: one text for one body, however its fields were ordered. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const sameFingerprint = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && timingSafeEqual(a, b)

export type Idempotency = ReturnType<typeof createIdempotency>

/**
 * `secretKeys` (SECRET_KEY) key the fingerprints, through a key of their own derived from each (so
 * a fingerprint is never a token signature): a stolen table then tells nothing about the bodies,
 * passwords included. The first key makes them and any matches, so rotating keeps retries working.
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
  const fingerprintKeys = secretKeys.map((secret) =>
    createHmac('sha256', secret).update('idempotency-key fingerprint').digest(),
  )
  const fingerprints = ({ request, body }: KeyedRequest) =>
    fingerprintKeys.map((key) =>
      createHmac('sha256', key)
        .update(`${request}\n${canonical(body)}`)
        .digest(),
    )

  return {
    /**
     * Runs `write` once per key: without a key, as it is; with one, in a transaction that also
     * stores its answer, or answers the stored one. A key in use by a running request is 409, a key
     * used for another request 422; a failed write stores nothing, so its retry runs again.
     */
    async create<T>(
      request: KeyedRequest | undefined,
      write: (db: Database) => Promise<T>,
      { answer, authorize }: CreateOptions,
    ): Promise<Creation<T>> {
      if (request === undefined) return { value: await write(db), replayed: false }
      await authorize?.()
      const prints = fingerprints(request)
      const creation = await db.transaction(async (tx): Promise<Creation<T>> => {
        const held = keys.on(tx)
        if (!(await held.lock(request))) throw keyInProgress()
        const stored = await held.find(request)
        if (stored !== undefined) {
          if (!prints.some((print) => sameFingerprint(print, stored.fingerprint))) throw keyReused()
          if (!Value.Check(answer, stored.body)) throw keyStale()
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
