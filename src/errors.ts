// The service's HTTP errors. Everything a handler, repository or hook throws on purpose is one of these;
// the single mapping in src/http/error-handler.ts turns them (and everything else) into JSON responses.

export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'Validation error')
    this.name = 'HttpError'
  }
}

export class NotFoundError extends HttpError {
  constructor(detail = 'Not Found') {
    super(404, detail)
  }
}

export class ConflictError extends HttpError {
  constructor(detail: string) {
    super(409, detail)
  }
}

export class ValidationError extends HttpError {
  constructor(issues: ValidationIssue[]) {
    super(422, issues)
  }
}

/**
 * 503 with Retry-After (whole seconds): the client may try again soon. Refused before any SQL ran
 * (a full queue) nothing was written; past the query deadline a write may still have committed.
 */
export class ServiceUnavailableError extends HttpError {
  constructor(detail = 'Service Unavailable', retryAfterSeconds = 1) {
    super(503, detail, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) })
  }
}
