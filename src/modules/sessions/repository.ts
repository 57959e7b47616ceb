// SQL for sessions: one row per login (its id is the `sid` of its access tokens), holding only a
// hash of its current refresh token; the hashes of tokens it has spent are kept to recognise a
// replay. Also the caller check that every authenticated statement folds in (`callerScope`), so a
// revoked session or a deactivated user stops working on the next request, on every instance,
// without a round trip of its own.
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
 * session (not revoked, not expired); no row otherwise. Two primary-key lookups.
 */
export const callerScope = (sql: Queryable, caller: Caller) => sql`
  select u.id as caller_id, u.is_superuser as caller_is_superuser
  from sessions s join users u on u.id = s.user_id
  where s.id = ${caller.sessionId} and s.user_id = ${caller.userId} and u.is_active
    and s.revoked_at is null and s.expires_at > now()
`

/** The caller a statement saw, from its first row; no row means the session or the user is gone (401). */
export function liveCallerOf(rows: readonly CallerColumns[]): LiveCaller {
  const [row] = rows
  if (!row) throw invalidToken()
  return { id: row.caller_id, isSuperuser: row.caller_is_superuser }
}

const invalidRefreshToken = () => new UnauthenticatedError('invalid_refresh_token', 'Invalid refresh token')

interface SessionRow {
  id: string
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

const hashRefreshToken = (token: string): Buffer => new Bun.CryptoHasher('sha256').update(token).digest()

const toSession = (row: SessionRow, current: string): Session => ({
  id: row.id,
  created_at: row.created_at.toISOString(),
  last_used_at: row.last_used_at.toISOString(),
  expires_at: row.expires_at.toISOString(),
  user_agent: row.user_agent,
  client_address: row.client_address,
  current: row.id === current,
})

export type SessionsRepository = ReturnType<typeof createSessionsRepository>

export function createSessionsRepository(db: Database, options: { lifetimeDays: number }) {
  return {
    /** The caller as the database sees it now (for checks that must come before any other work). */
    async findCaller(caller: Caller): Promise<LiveCaller> {
      return liveCallerOf(await db.query((sql) => sql<CallerColumns[]>`${callerScope(sql, caller)}`))
    },

    /**
     * Starts a session for a user who just proved its password, if the account is still as it was
     * checked: active, with the hash the password matched. The user's row is locked while the
     * session is inserted, so a password change, deactivation or deletion either comes first (no
     * session: undefined) or sees this session and ends it.
     */
    async start(
      userId: string,
      verifiedHash: string,
      refresh: IssuedRefreshToken,
      origin: SessionOrigin,
    ): Promise<string | undefined> {
      const [row] = await db.query(
        (sql) => sql<[{ id: string }?]>`
          insert into sessions (user_id, token_hash, expires_at, user_agent, client_address)
          select u.id, ${refresh.hash}, now() + make_interval(days => ${options.lifetimeDays}),
                 ${origin.userAgent}, ${origin.clientAddress}
          from users u
          where u.id = ${userId} and u.is_active and u.hashed_password = ${verifiedHash}
          for share of u
          returning id
        `,
      )
      return row?.id
    },

    /**
     * Swaps a refresh token for the next one. The session's row lock lets exactly one of two
     * concurrent uses through, and orders every refresh against every revocation. A token the
     * session has already spent is a replay (the token leaked, or a client used it twice): the whole
     * session is revoked, the pair its first use gave included. Anything else that fails: 401.
     */
    async rotate(
      presented: string,
      next: IssuedRefreshToken,
      origin: SessionOrigin,
    ): Promise<{ userId: string; sessionId: string }> {
      const used = hashRefreshToken(presented)
      const [row] = await db.query(
        (sql) => sql<[{ user_id: string; id: string }?]>`
          with rotated as (
            update sessions s
            set token_hash = ${next.hash}, last_used_at = now(),
                user_agent = ${origin.userAgent}, client_address = ${origin.clientAddress}
            from users u
            where s.token_hash = ${used} and s.revoked_at is null and s.expires_at > now()
              and u.id = s.user_id and u.is_active
            returning s.id, s.user_id
          ),
          spent as (insert into spent_refresh_tokens (token_hash, session_id) select ${used}, id from rotated)
          select id, user_id from rotated
        `,
      )
      if (row) return { userId: row.user_id, sessionId: row.id }
      await db.query(
        (sql) => sql`
          update sessions set revoked_at = now()
          where revoked_at is null and id = (select session_id from spent_refresh_tokens where token_hash = ${used})
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
            update sessions s set revoked_at = now() from caller c
            where s.id = ${caller.sessionId} and s.user_id = c.caller_id and s.revoked_at is null
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
          select c.*, s.id, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.client_address
          from caller c left join sessions s
            on s.user_id = c.caller_id and s.revoked_at is null and s.expires_at > now()
          order by s.created_at desc, s.id
        `,
      )
      liveCallerOf(rows)
      return rows.filter((row) => row.id).map((row) => toSession(row as SessionRow, caller.sessionId))
    },

    /** Ends one of the caller's sessions; false when it has no live one by that id. */
    async revokeOwnById(caller: Caller, sessionId: string): Promise<boolean> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { revoked: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          revoked as (
            update sessions s set revoked_at = now() from caller c
            where s.id = ${sessionId} and s.user_id = c.caller_id and s.revoked_at is null and s.expires_at > now()
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
            update sessions s set revoked_at = now() from caller c
            where c.caller_is_superuser and s.user_id = ${userId} and s.revoked_at is null
          )
          select c.*, exists (select 1 from users where id = ${userId}) as found from caller c
        `,
      )
      requireSuperuser(liveCallerOf(rows))
      return rows[0]!.found
    },

    /**
     * Drops up to `batch` sessions that can no longer be used, past their end or revoked, with the
     * spent tokens they kept; a replay of one of those is then an unknown token (401 all the same).
     */
    async pruneEnded(batch: number): Promise<number> {
      const result = await db.query(
        (sql) => sql`
          delete from sessions where id in (
            select id from sessions where expires_at < now() or revoked_at is not null limit ${batch}
          )
        `,
      )
      return result.count
    },
  }
}
