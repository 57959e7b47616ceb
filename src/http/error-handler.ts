// The one mapping from anything thrown to the JSON error contract: `{"detail", "code"}` with the
// status and headers each error means. Only this file knows those statuses. Anything it cannot
// explain is a 500 whose real error is logged and never sent.
import { Elysia } from 'elysia'
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidValueError,
  NotFoundError,
  RateLimitedError,
  RejectedError,
  UnauthenticatedError,
  UnavailableError,
} from '../errors'
import { describeError, type Logger } from '../logger'
import { malformedBody } from './body'
import { type ErrorCode, RequestError, ValidationFailedError, type ValidationIssue } from './errors'
import { requestIdOf } from './request-log'
import { type ElysiaValueError, toValidationIssues } from './validation'

interface ElysiaValidation {
  type: string
  value: unknown
  all: ElysiaValueError[]
}

/** An error as the client gets it. */
interface ErrorAnswer {
  status: number
  code: ErrorCode
  detail: string | ValidationIssue[]
  headers?: Record<string, string>
}

const INTERNAL: ErrorAnswer = { status: 500, code: 'internal_error', detail: 'Internal Server Error' }

const REQUEST_STATUS: Record<RequestError['code'], number> = {
  malformed_body: 400,
  not_found: 404,
  body_too_large: 413,
  unsupported_media_type: 415,
}

const challenge = {
  name: 'WWW-Authenticate',
  description:
    'How to authenticate: `Bearer`, with `error="invalid_token"` when the token sent was not accepted (RFC 6750).',
  schema: { type: 'string' },
} as const

const retryAfter = {
  name: 'Retry-After',
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 1 },
} as const

/**
 * The headers that error answers carry, by status: how to authenticate, when to retry. The OpenAPI
 * document declares these; `answerFor` below sets them.
 */
export const ERROR_HEADERS = {
  401: [challenge],
  429: [retryAfter],
  503: [retryAfter],
} as const

/** Whole seconds, at least one. */
const retryIn = (seconds: number) => ({ [retryAfter.name]: String(Math.max(1, Math.ceil(seconds))) })

/** What a domain error means over HTTP; undefined for a kind this table does not know (a bug). */
function answerFor(error: DomainError): ErrorAnswer | undefined {
  const { code, message: detail } = error
  if (error instanceof NotFoundError) return { status: 404, code, detail }
  if (error instanceof ConflictError) return { status: 409, code, detail }
  if (error instanceof InvalidValueError) {
    const loc = code === 'idempotency_key_reused' ? ['header', 'idempotency-key'] : ['body']
    return { status: 422, code, detail: [{ loc, msg: detail, type: 'value_error' }] }
  }
  if (error instanceof RejectedError) return { status: 400, code, detail }
  if (error instanceof UnauthenticatedError) {
    const scheme = error.code === 'not_authenticated' ? 'Bearer' : 'Bearer error="invalid_token"'
    return { status: 401, code, detail, headers: { [challenge.name]: scheme } }
  }
  if (error instanceof ForbiddenError) return { status: 403, code, detail }
  if (error instanceof RateLimitedError) return { status: 429, code, detail, headers: retryIn(error.retryAfterSeconds) }
  if (error instanceof UnavailableError) return { status: 503, code, detail, headers: retryIn(error.retryAfterSeconds) }
  return undefined
}

/** A domain error as a response of its own, for what answers outside the app (src/http/starting.ts). */
export function responseFor(error: DomainError): Response {
  const { status, code, detail, headers } = answerFor(error) ?? INTERNAL
  return Response.json({ detail, code }, { status, headers })
}

export interface ErrorHandlerOptions {
  logger: Logger
  /** The methods a path is served with, for 405 versus 404. */
  allowedMethods: (path: string) => string[]
  /**
   * For a protected route whose request could not be read or validated: the 401 or 403 its caller
   * should get first, if any (src/http/auth.ts).
   */
  confirmCaller?: (request: Request, path: string) => Promise<DomainError | undefined>
}

/** Problems with what the client sent, which a 401 or 403 must come before. */
const isRequestProblem = (thrown: unknown, code: unknown) =>
  (thrown instanceof RequestError && (thrown.code === 'unsupported_media_type' || thrown.code === 'malformed_body')) ||
  thrown instanceof ValidationFailedError ||
  thrown instanceof InvalidValueError ||
  (code === 'VALIDATION' && (thrown as unknown as ElysiaValidation).type !== 'response')

export function errorHandler({ logger, allowedMethods, confirmCaller }: ErrorHandlerOptions) {
  return new Elysia({ name: 'error-handler' }).onError(
    { as: 'global' },
    async ({ code, error, request, set, path }) => {
      const context = () => ({ request_id: requestIdOf(request), method: request.method, path })
      // Elysia wraps what the body reader throws in its own ParseError; one of its own is malformed JSON.
      let thrown = code === 'PARSE' ? ((error as Error).cause ?? malformedBody()) : error
      if (confirmCaller && isRequestProblem(thrown, code)) thrown = (await confirmCaller(request, path)) ?? thrown

      let answer: ErrorAnswer | undefined
      if (thrown instanceof DomainError) answer = answerFor(thrown)
      else if (thrown instanceof RequestError) {
        answer = { status: REQUEST_STATUS[thrown.code], code: thrown.code, detail: thrown.message }
      } else if (thrown instanceof ValidationFailedError) {
        answer = { status: 422, code: 'validation_failed', detail: thrown.issues }
      } else if (code === 'VALIDATION') {
        const validation = error as unknown as ElysiaValidation
        if (validation.type === 'response') {
          // A response that fails its own schema is our bug, not the client's: a 500, logged by field only.
          logger.error('response did not match its schema', { ...context(), fields: validation.all.map((e) => e.path) })
          answer = INTERNAL
        } else {
          const issues = toValidationIssues(validation.type, validation.value, validation.all)
          answer = { status: 422, code: 'validation_failed', detail: issues }
        }
      } else if (code === 'NOT_FOUND') {
        const allow = allowedMethods(path)
        answer = allow.length
          ? {
              status: 405,
              code: 'method_not_allowed',
              detail: 'Method Not Allowed',
              headers: { Allow: allow.join(', ') },
            }
          : { status: 404, code: 'not_found', detail: 'Not Found' }
      }

      if (!answer) {
        logger.error('unhandled error', { ...context(), ...describeError(error) })
        answer = INTERNAL
      }
      set.status = answer.status
      Object.assign(set.headers, answer.headers)
      return { detail: answer.detail, code: answer.code }
    },
  )
}
