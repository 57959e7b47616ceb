// What is wrong with a request as HTTP (its route, its body, its fields), found at the edge before a
// route's own work runs. Like the domain errors, these carry no status: src/http/error-handler.ts maps them.
import { DOMAIN_ERROR_CODES, type DomainErrorCode } from '../errors'

/** The codes the HTTP edge itself answers with (`internal_error`: a bug, whatever it was). */
const REQUEST_ERROR_CODES = [
  'not_found',
  'method_not_allowed',
  'body_too_large',
  'unsupported_media_type',
  'malformed_body',
  'validation_failed',
  'internal_error',
] as const

export type ErrorCode = (typeof REQUEST_ERROR_CODES)[number] | DomainErrorCode

/** Every `code` an error body can carry: the edge's and the domain's. The OpenAPI document lists these. */
export const ERROR_CODES: readonly [ErrorCode, ...ErrorCode[]] = [
  ...REQUEST_ERROR_CODES,
  ...Object.values(DOMAIN_ERROR_CODES).flat(),
]

export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

/** No such route here (an unknown docs asset, say), or a body that cannot be read as this API's JSON. */
export class RequestError extends Error {
  constructor(
    readonly code: 'not_found' | 'body_too_large' | 'unsupported_media_type' | 'malformed_body',
    message: string,
  ) {
    super(message)
    this.name = 'RequestError'
  }
}

/** The request did not validate: one issue per field, in FastAPI's shape. */
export class ValidationFailedError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super('Validation failed')
    this.name = 'ValidationFailedError'
  }
}
