// Every password check a client can repeat (a login, the current password before a change) is one
// attempt against the throttle: past 5 failures for one email from one address (an IPv6 /64 counts
// as one) in the window, or 100 from one address, it is refused with 429 before any hashing. A wrong password counts; a
// right one, or a check the service could not finish, does not.

import { addressBlock } from '../../addresses'
import { normaliseEmail } from '../../emails'
import { RateLimitedError } from '../../errors'
import type { LoginAttemptsRepository } from './repository'

export type PasswordThrottle = ReturnType<typeof createPasswordThrottle>

export function createPasswordThrottle(attempts: LoginAttemptsRepository) {
  return {
    /**
     * Runs `check` as one attempt for `email` from `clientAddress`. It answers what the right
     * password unlocks, or undefined for a wrong one; so does this.
     */
    async attempt<T>(
      email: string,
      clientAddress: string,
      check: () => Promise<T | undefined>,
    ): Promise<T | undefined> {
      const reservation = await attempts.reserve(addressBlock(clientAddress), normaliseEmail(email).toLowerCase())
      if ('retryAfterSeconds' in reservation) {
        throw new RateLimitedError(
          'rate_limited',
          'Too many failed logins, try again later',
          reservation.retryAfterSeconds,
        )
      }
      let passed: T | undefined
      try {
        passed = await check()
      } catch (error) {
        // Not a failed password but a failed service (hashing or the database busy): it must not count.
        await attempts.release(reservation.attemptId).catch(() => {})
        throw error
      }
      if (passed !== undefined) await attempts.release(reservation.attemptId)
      return passed
    },
  }
}
