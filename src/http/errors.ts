// What is wrong with a request as HTTP (its body, its fields), found before a route's own work runs.
// Like the domain errors, these carry no status: src/http/error-handler.ts maps them.
import type { ErrorCode } from '../errors'

export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

/** The body cannot be read as this API's JSON: too large, another media type, or malformed. */
export class RequestError extends Error {
  constructor(
    readonly code: Extract<ErrorCode, 'body_too_large' | 'unsupported_media_type' | 'malformed_body'>,
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
