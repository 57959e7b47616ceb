// SQL for sessions: one row per refresh token, grouped by `family` (the session, the `sid` of its
// access tokens). Tokens are kept only as SHA-256 hashes. Also the caller check that every
// authenticated statement folds in (`callerScope`), so a revoked session or a deactivated user stops
// working on the next request, on every instance, without a round trip of its own.
import type { Database, Queryable } from '../../db/database'
import { UnauthenticatedError } from '../../errors'
import { type LiveCaller, requireSuperuser } from '../../security/access'
import { type Caller, invalidToken } from '../../security/tokens'
import type { Session } from './model'

/** The caller's columns in a statement that folds `callerScope` in. */
export interface CallerColumns {
  caller_id: string
  caller_is_superuser: boolean
}

/**
 * `caller` as a one-row relation for a `with caller as (...)`: the user, if active and in a live
 * session (not revoked, not expired, its token not rotated away); no row otherwise.
 */
export const callerScope = (sql: Queryable, caller: Caller) => sql`
  select u.id as caller_id, u.is_superuser as caller_is_superuser
  from users u join sessions s on s.user_id = u.id
  where u.id = ${caller.userId} and u.is_active and s.family = ${caller.sessionId}
    and s.rotated_at is null and s.revoked_at is null and s.expires_at > now()
`

/** The caller a statement saw, from its first row; no row means the session or the user is gone (401). */
export function liveCallerOf(rows: readonly CallerColumns[]): LiveCaller {
  const [row] = rows
  if (!row) throw invalidToken()
  return { id: row.caller_id, isSuperuser: row.caller_is_superuser }
}

const invalidRefreshToken = () => new UnauthenticatedError('invalid_refresh_token', 'Invalid refresh token')

interface SessionRow {
  family: string
  created_at: Date
  last_used_at: Date
  expires_at: Date
  user_agent: string | null
  client_address: string | null
}

export interface SessionOrigin {
  userAgent: string | null
  clientAddress: string
}

/** A session's new (or next) refresh token: the token goes to the client, its hash to the table. */
export interface IssuedRefreshToken {
  token: string
  hash: Buffer
}

/** 256 random bits, base64url: opaque, and only its hash is ever stored. */
export function newRefreshToken(): IssuedRefreshToken {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export const hashRefreshToken = (token: string): Buffer => new Bun.CryptoHasher('sha256').update(token).digest()

const toSession = (row: SessionRow, current: string): Session => ({
  id: row.family,
  created_at: row.created_at.toISOString(),
  last_used_at: row.last_used_at.toISOString(),
  expires_at: row.expires_at.toISOString(),
  user_agent: row.user_agent,
  client_address: row.client_address,
  current: row.family === current,
})

export type SessionsRepository = ReturnType<typeof createSessionsRepository>

export function createSessionsRepository(db: Database, options: { lifetimeDays: number }) {
  return {
    /** The caller as the database sees it now (for checks that must come before any other work). */
    async findCaller(caller: Caller): Promise<LiveCaller> {
      return liveCallerOf(await db.query((sql) => sql<CallerColumns[]>`${callerScope(sql, caller)}`))
    },

    /** Starts a session for a user who just proved its password; returns the session id. */
    async start(userId: string, refresh: IssuedRefreshToken, origin: SessionOrigin): Promise<string> {
      const [row] = await db.query(
        (sql) => sql<[{ family: string }]>`
          insert into sessions (family, user_id, token_hash, created_at, expires_at, user_agent, client_address)
          values (gen_random_uuid(), ${userId}, ${refresh.hash}, now(), now() + make_interval(days => ${options.lifetimeDays}),
                  ${origin.userAgent}, ${origin.clientAddress})
          returning family
        `,
      )
      return row.family
    },

    /**
     * Swaps a refresh token for the next one, in one statement: the row lock on the used token lets
     * exactly one of two concurrent uses through. A token that was already rotated is a replay (the
     * token leaked, or a client retried): the whole session is revoked. Either way, 401.
     */
    async rotate(
      presented: string,
      next: IssuedRefreshToken,
      origin: SessionOrigin,
    ): Promise<{ userId: string; sessionId: string }> {
      const used = hashRefreshToken(presented)
      const [row] = await db.query(
        (sql) => sql<[{ user_id: string; family: string }?]>`
          with used as (
            update sessions s set rotated_at = now()
            from users u
            where s.token_hash = ${used} and s.rotated_at is null and s.revoked_at is null
              and s.expires_at > now() and u.id = s.user_id and u.is_active
            returning s.family, s.user_id, s.created_at, s.expires_at
          )
          insert into sessions (family, user_id, token_hash, created_at, expires_at, user_agent, client_address)
          select family, user_id, ${next.hash}, created_at, expires_at, ${origin.userAgent}, ${origin.clientAddress}
          from used
          returning user_id, family
        `,
      )
      if (row) return { userId: row.user_id, sessionId: row.family }
      // Not rotated: revoke the family if this token had been (reuse); a revoked family stays revoked.
      await db.query(
        (sql) => sql`
          update sessions set revoked_at = now()
          where revoked_at is null and family = (
            select family from sessions where token_hash = ${used} and rotated_at is not null
          )
        `,
      )
      throw invalidRefreshToken()
    },

    /** Ends the caller's own session (logout). */
    async revokeOwn(caller: Caller): Promise<void> {
      const rows = await db.query(
        (sql) => sql<CallerColumns[]>`
          with caller as (${callerScope(sql, caller)}),
          revoked as (
            update sessions set revoked_at = now()
            where family = ${caller.sessionId} and revoked_at is null and user_id = (select caller_id from caller)
          )
          select * from caller
        `,
      )
      liveCallerOf(rows)
    },

    /** The caller's live sessions, newest first; `current` marks the one the request came with. */
    async listOwn(caller: Caller): Promise<Session[]> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & Partial<SessionRow>)[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*, s.family, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.client_address
          from caller c left join sessions s
            on s.user_id = c.caller_id and s.rotated_at is null and s.revoked_at is null and s.expires_at > now()
          order by s.created_at desc, s.family
        `,
      )
      liveCallerOf(rows)
      return rows.filter((row) => row.family).map((row) => toSession(row as SessionRow, caller.sessionId))
    },

    /** Ends one of the caller's sessions; false when it has none by that id that is live. */
    async revokeOwnById(caller: Caller, sessionId: string): Promise<boolean> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { revoked: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          revoked as (
            update sessions s set revoked_at = now()
            from caller c
            where s.family = ${sessionId} and s.user_id = c.caller_id and s.revoked_at is null
              and s.rotated_at is null and s.expires_at > now()
            returning 1
          )
          select c.*, exists (select 1 from revoked) as revoked from caller c
        `,
      )
      liveCallerOf(rows)
      return rows[0]!.revoked
    },

    /** A superuser ends every session of a user; false when there is no such user. */
    async revokeAllOf(caller: Caller, userId: string): Promise<boolean> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { found: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          revoked as (
            update sessions s set revoked_at = now()
            from caller c
            where c.caller_is_superuser and s.user_id = ${userId} and s.revoked_at is null
          )
          select c.*, exists (select 1 from users where id = ${userId}) as found from caller c
        `,
      )
      requireSuperuser(liveCallerOf(rows))
      return rows[0]!.found
    },

    /** Drops what can no longer be used: sessions past their absolute expiry. */
    async pruneExpired(): Promise<number> {
      const result = await db.query((sql) => sql`delete from sessions where expires_at < now()`)
      return result.count
    },
  }
}
