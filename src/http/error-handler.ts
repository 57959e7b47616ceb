// The one mapping from anything thrown to the JSON error contract. Known errors keep their status
// and detail; a database failure becomes 503/422 where it means that; anything else is a 500 whose
// real error is logged and never sent.
import { Elysia } from 'elysia'
import { httpErrorForDatabase } from '../db/errors'
import { HttpError, ValidationError } from '../errors'
import { describeError, type Logger } from '../logger'
import { malformedBody } from './body'
import { requestIdOf } from './request-log'
import { type ElysiaValueError, toValidationIssues } from './validation'

interface ElysiaValidation {
  type: string
  value: unknown
  all: ElysiaValueError[]
}

export interface ErrorHandlerOptions {
  logger: Logger
  /** The methods a path is served with, for 405 versus 404. */
  allowedMethods: (path: string) => string[]
}

export function errorHandler({ logger, allowedMethods }: ErrorHandlerOptions) {
  return new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, ({ code, error, request, set, path }) => {
    let known: HttpError | undefined
    // Elysia wraps what a parse hook throws (our 413/415/400) in its own ParseError.
    const cause = code === 'PARSE' ? (error as Error).cause : undefined
    if (error instanceof HttpError) known = error
    else if (cause instanceof HttpError) known = cause
    else if (code === 'VALIDATION') {
      const validation = error as unknown as ElysiaValidation
      // A response that fails its own schema is our bug, not the client's: a 500, logged by field only.
      if (validation.type === 'response') {
        const fields = validation.all.map((e) => e.path)
        logger.error('response did not match its schema', {
          request_id: requestIdOf(request),
          method: request.method,
          path,
          fields,
        })
        known = new HttpError(500, 'Internal Server Error')
      } else known = new ValidationError(toValidationIssues(validation.type, validation.value, validation.all))
    } else if (code === 'PARSE') known = malformedBody()
    else if (code === 'NOT_FOUND') {
      const allow = allowedMethods(path)
      known = allow.length
        ? new HttpError(405, 'Method Not Allowed', { allow: allow.join(', ') })
        : new HttpError(404, 'Not Found')
    } else known = httpErrorForDatabase(error)

    if (!known) {
      logger.error('unhandled error', {
        request_id: requestIdOf(request),
        method: request.method,
        path,
        ...describeError(error),
      })
      known = new HttpError(500, 'Internal Server Error')
    }
    set.status = known.status
    Object.assign(set.headers, known.headers)
    return { detail: known.detail }
  })
}
