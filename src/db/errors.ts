// What database failures mean, as domain errors. The gated pool (database.ts) translates every
// failure it can explain; repositories use `rethrowConstraint` for the violations they expect (a
// duplicate email, a missing owner). Anything else stays as it is: a bug, answered as a 500.
import postgres from 'postgres'
import { DomainError, InvalidValueError, UnavailableError } from '../errors'

const connectionCodes = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03', // the server is shutting down or starting
  '53300', // too many connections
])

/** SQLSTATEs that say "try again": a statement timeout, a serialization failure, a deadlock. */
const transientCodes = new Set(['57014', '40001', '40P01'])

/** Bad values that validation should have caught; still the client's fault, never a 500. */
const badValueCodes = new Set(['22P02', '22003', '22021', '22001'])

/** A database failure's code: a SQLSTATE, or postgres.js's or the socket's own (`ECONNREFUSED`). */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** What a request hears while the database cannot be reached (or, at start, is not ready yet). */
export const databaseUnavailable = () => new UnavailableError('database_unavailable', 'Database unavailable', 2)

/** True when the database could not be reached or dropped the connection. */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && (connectionCodes.has(code) || code.startsWith('08'))
}

/** The domain error a database failure stands for, or undefined when it is a bug. */
export function domainErrorFor(error: unknown): DomainError | undefined {
  const code = codeOf(error)
  // A domain error's own `code` is not a database's.
  if (code === undefined || error instanceof DomainError) return undefined
  if (isConnectionError(error)) return databaseUnavailable()
  if (transientCodes.has(code)) return new UnavailableError('database_busy', 'Database busy, try again', 1)
  if (badValueCodes.has(code) && error instanceof postgres.PostgresError) {
    return new InvalidValueError('invalid_value', 'Value is not valid for the database')
  }
  return undefined
}

/**
 * For `.catch()` on a write: turns the violation of a named constraint into the error the
 * repository chose for it, and lets everything else through untouched.
 */
export function rethrowConstraint(map: Record<string, () => DomainError>) {
  return (error: unknown): never => {
    if (error instanceof postgres.PostgresError && error.constraint_name && map[error.constraint_name]) {
      throw map[error.constraint_name]!()
    }
    throw error
  }
}
