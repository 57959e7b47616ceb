// SQL for login throttling. Every login first reserves a slot: under a per-address advisory lock it
// counts the address's failures in the window (for this email, and for all emails) and, below both
// limits, records the attempt as a failure until it succeeds. Concurrent guesses therefore queue on
// the lock and cannot all slip under the limit; the counts live in PostgreSQL, shared by instances.
import type { Database } from '../../db/database'

export interface ThrottleLimits {
  perEmailAndAddress: number
  perAddress: number
  windowSeconds: number
}

export type Reservation = { attemptId: string } | { retryAfterSeconds: number }

export type LoginAttemptsRepository = ReturnType<typeof createLoginAttemptsRepository>

export function createLoginAttemptsRepository(db: Database, limits: ThrottleLimits) {
  return {
    async reserve(clientAddress: string, email: string): Promise<Reservation> {
      return db.transaction((tx) =>
        tx.query(async (sql) => {
          await sql`select pg_advisory_xact_lock(hashtextextended(${`login:${clientAddress}`}, 0))`
          const window = sql`now() - make_interval(secs => ${limits.windowSeconds})`
          // When the limit-th newest failure leaves the window, the count drops below the limit again.
          const [blocked] = await sql<[{ free_at_seconds: number }?]>`
            select ceil(extract(epoch from max(free_at) - now()))::int as free_at_seconds from (
              (select attempted_at + make_interval(secs => ${limits.windowSeconds}) as free_at
               from login_attempts where client_address = ${clientAddress} and email = ${email} and attempted_at > ${window}
               order by attempted_at desc offset ${limits.perEmailAndAddress - 1} limit 1)
              union all
              (select attempted_at + make_interval(secs => ${limits.windowSeconds})
               from login_attempts where client_address = ${clientAddress} and attempted_at > ${window}
               order by attempted_at desc offset ${limits.perAddress - 1} limit 1)
            ) limits
            having count(*) > 0
          `
          if (blocked) return { retryAfterSeconds: Math.max(1, blocked.free_at_seconds) }
          await sql`delete from login_attempts where client_address = ${clientAddress} and attempted_at <= ${window}`
          const [attempt] = await sql<[{ id: string }]>`
            insert into login_attempts (client_address, email) values (${clientAddress}, ${email}) returning id
          `
          return { attemptId: attempt.id }
        }),
      )
    },

    /** A login that succeeded is not a failure: its reservation goes. */
    async release(attemptId: string): Promise<void> {
      await db.query((sql) => sql`delete from login_attempts where id = ${attemptId}`)
    },

    /** Drops up to `batch` attempts every window has left, for addresses that never came back. */
    async pruneExpired(batch: number): Promise<number> {
      const result = await db.query(
        (sql) => sql`
          delete from login_attempts where id in (
            select id from login_attempts
            where attempted_at <= now() - make_interval(secs => ${limits.windowSeconds}) limit ${batch}
          )
        `,
      )
      return result.count
    },
  }
}
