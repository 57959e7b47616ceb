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
