// What went wrong, in the service's own terms. Repositories, the database layer, the gate and the
// password hasher throw these; none of them knows HTTP. src/http/error-handler.ts alone turns them
// into statuses, headers and `{"detail", "code"}` bodies.
//
// Each kind takes only its own codes: stable, machine-readable names that clients switch on (`detail`
// is for people and may be reworded). The request's own problems (a malformed body, a field that does
// not validate) have theirs in src/http/errors.ts; the OpenAPI document lists both.

export const DOMAIN_ERROR_CODES = {
  notFound: ['user_not_found', 'item_not_found', 'session_not_found'],
  conflict: ['email_taken', 'too_many_items', 'idempotency_key_in_progress', 'idempotency_key_stale'],
  invalidValue: ['invalid_value', 'idempotency_key_reused'],
  rejected: ['incorrect_credentials', 'incorrect_password', 'password_unchanged'],
  unauthenticated: ['not_authenticated', 'invalid_token', 'invalid_refresh_token'],
  forbidden: ['forbidden', 'registration_closed', 'cannot_delete_self'],
  rateLimited: ['rate_limited'],
  unavailable: [
    'database_unavailable',
    'database_busy',
    'database_timeout',
    'hashing_busy',
    'shutting_down',
    'overloaded',
  ],
} as const

type CodesOf<K extends keyof typeof DOMAIN_ERROR_CODES> = (typeof DOMAIN_ERROR_CODES)[K][number]
export type DomainErrorCode = CodesOf<keyof typeof DOMAIN_ERROR_CODES>

/** An error the service expects and can explain: its `message` is safe to show to the client. */
export abstract class DomainError<Code extends DomainErrorCode = DomainErrorCode> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError<CodesOf<'notFound'>> {}

/** The change would break a rule of the data (a unique email, say). */
export class ConflictError extends DomainError<CodesOf<'conflict'>> {}

/** A value the client sent that the data cannot hold, though it passed validation. */
export class InvalidValueError extends DomainError<CodesOf<'invalidValue'>> {}

/** Credentials in the body that do not match: a failed login, a wrong current password. */
export class RejectedError extends DomainError<CodesOf<'rejected'>> {}

/** The caller is not known: no credentials, or ones that are not (or no longer) valid. */
export class UnauthenticatedError extends DomainError<CodesOf<'unauthenticated'>> {}

/** The caller is known but may not do this. */
export class ForbiddenError extends DomainError<CodesOf<'forbidden'>> {}

/** The caller asked too often; it may try again after `retryAfterSeconds`. */
export class RateLimitedError extends DomainError<CodesOf<'rateLimited'>> {
  constructor(
    code: CodesOf<'rateLimited'>,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message)
  }
}

/**
 * The service cannot do this right now (the database is down or saturated, too many hashes at once,
 * shutting down); trying again after `retryAfterSeconds` may work. Refused before any SQL ran (a full
 * queue), nothing was written; past the query deadline a write may still have committed.
 */
export class UnavailableError extends DomainError<CodesOf<'unavailable'>> {
  constructor(
    code: CodesOf<'unavailable'>,
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(code, message)
  }
}
