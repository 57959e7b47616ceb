// What went wrong, in the service's own terms. Repositories, the database layer, the gate and the
// password hasher throw these; none of them knows HTTP. src/http/error-handler.ts alone turns them
// into statuses, headers and `{"detail", "code"}` bodies.

/**
 * Every `code` an error body can carry: stable, machine-readable names that clients switch on
 * (`detail` is for people and may be reworded). Listed once, here; the OpenAPI document and the
 * README's error table show this list.
 */
export const ERROR_CODES = [
  // The request itself (src/http/)
  'not_found',
  'method_not_allowed',
  'body_too_large',
  'unsupported_media_type',
  'malformed_body',
  'validation_failed',
  // The data
  'user_not_found',
  'item_not_found',
  'email_taken',
  'invalid_value',
  // Access
  'not_authenticated',
  'forbidden',
  'rate_limited',
  // The service
  'database_unavailable',
  'database_busy',
  'database_timeout',
  'hashing_busy',
  'shutting_down',
  'internal_error',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** An error the service expects and can explain: its `message` is safe to show to the client. */
export abstract class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError {}

/** The change would break a rule of the data (a unique email, say). */
export class ConflictError extends DomainError {}

/** A value the client sent that the data cannot hold, though it passed validation. */
export class InvalidValueError extends DomainError {}

/** The caller is not known: no credentials, or ones that are not (or no longer) valid. */
export class UnauthenticatedError extends DomainError {}

/** The caller is known but may not do this. */
export class ForbiddenError extends DomainError {}

/** The caller asked too often; it may try again after `retryAfterSeconds`. */
export class RateLimitedError extends DomainError {
  constructor(
    code: ErrorCode,
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
export class UnavailableError extends DomainError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(code, message)
  }
}
