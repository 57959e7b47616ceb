import { ConflictError, InvalidValueError } from '../../errors'

/** The first request with this key has not finished: its answer is not known yet. */
export const keyInProgress = () =>
  new ConflictError(
    'idempotency_key_in_progress',
    'A request with this Idempotency-Key is still being processed; retry once it has finished',
  )

/** The key was used, within its 24 hours, for a request with another body, path or method. */
export const keyReused = () =>
  new InvalidValueError('idempotency_key_reused', 'This Idempotency-Key was used for a different request')

/** The stored answer was made before a change to its shape: it cannot be given again as it was. */
export const keyStale = () =>
  new ConflictError(
    'idempotency_key_stale',
    'The request with this Idempotency-Key succeeded before the service was updated; look the created resource up instead of creating it again',
  )
