// Schema helpers shared by every module. Path ids and paging numbers are validated as strings
// (Elysia's numeric coercion takes "1e3", "0x10" and loses precision past 2^53) and documented
// as integers: src/docs/openapi.ts rewrites every `integer-*` format into an integer schema.
import { FormatRegistry, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { codePoints, isEmail, normaliseEmail } from '../emails'
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../paging'
import { ERROR_CODES } from './errors'

export const INT64_MAX = 9223372036854775807n
/** Canonical integer syntax; anything else is an `int_parsing` error. */
export const INTEGER_PATTERN = '^(0|-?[1-9][0-9]*)$'
/**
 * No NUL: PostgreSQL cannot store it in `text`. Unpaired UTF-16 surrogates (they would be stored as
 * U+FFFD, silently changing what was sent) are refused by the `text-*` format, as a JSON Schema
 * pattern cannot name them portably.
 */
export const NUL_PATTERN = '^[^\\u0000]*$'
export const INTEGER_FORMAT_PREFIX = 'integer-'
const INTEGER = new RegExp(INTEGER_PATTERN)

/**
 * A whole number carried as a string, within [minimum, maximum]; the handler gets the string,
 * so ids reach SQL as text and never through a JS number.
 */
export function integerString(options: { minimum: bigint; maximum: bigint; description?: string }) {
  const format = `${INTEGER_FORMAT_PREFIX}${options.minimum}-${options.maximum}`
  if (!FormatRegistry.Has(format)) {
    FormatRegistry.Set(format, (value) => {
      if (!INTEGER.test(value)) return false
      const n = BigInt(value)
      return n >= options.minimum && n <= options.maximum
    })
  }
  return t.String({
    pattern: INTEGER_PATTERN,
    format,
    minimum: options.minimum.toString(),
    maximum: options.maximum.toString(),
    ...(options.description ? { description: options.description } : {}),
  })
}

/** A row id in a path: 1 to 2^63-1. */
export const IdParam = integerString({ minimum: 1n, maximum: INT64_MAX })

/** An id in a response: identity values stay far below 2^53, so a JSON number is exact. */
// TypeBox's own Integer: Elysia's `t.Integer` is a string-or-number union with a default.
export const Id = Type.Integer({ minimum: 1 })
/** How many of something there are, in a response. */
export const Count = (description: string) => Type.Integer({ minimum: 0, description })
/** PostgreSQL's timestamptz, sent as an ISO-8601 string. */
export const Timestamp = t.String({ format: 'date-time' })

const TEXT_FORMAT_PREFIX = 'text-'
const TEXT_FORMAT = new RegExp(`^${TEXT_FORMAT_PREFIX}(\\d+)-(\\d+)$`)

/**
 * Text without NUL or unpaired surrogates, between the given lengths in characters (code points, as
 * JSON Schema and pydantic count them; TypeBox's own `maxLength` counts UTF-16 units, so an emoji
 * would count twice). The lengths travel in the format's name; src/docs/openapi.ts documents them
 * as `minLength` and `maxLength`.
 */
export function text({
  minLength = 0,
  maxLength,
  description,
}: {
  minLength?: number
  maxLength: number
  description?: string
}) {
  const format = `${TEXT_FORMAT_PREFIX}${minLength}-${maxLength}`
  if (!FormatRegistry.Has(format)) {
    FormatRegistry.Set(format, (value) => {
      if (!value.isWellFormed()) return false
      const length = codePoints(value)
      return length >= minLength && length <= maxLength
    })
  }
  return t.String({ pattern: NUL_PATTERN, format, ...(description ? { description } : {}) })
}

/** The lengths a `text-*` format carries, or undefined for any other format. */
export function textLengths(format: string | undefined): { minLength: number; maxLength: number } | undefined {
  const match = format?.match(TEXT_FORMAT)
  return match ? { minLength: Number(match[1]), maxLength: Number(match[2]) } : undefined
}

// The rule (src/emails.ts) is checked on the value as sent; the handler gets it trimmed and
// NFC-normalised, which is also what gets stored. Replaces Elysia's own, stricter-in-odd-ways
// `email` format; the document publishes the rule as `pattern` and `maxLength` (src/docs/openapi.ts).
FormatRegistry.Set('email', isEmail)
export const Email = t
  .Transform(
    t.String({
      format: 'email',
      examples: ['user@example.com'],
      description:
        'Trimmed and NFC-normalised; unique regardless of case. Letters of any script; no whitespace, control, format or default-ignorable characters (Unicode Cc, Cf, Zs, Zl, Zp, Default_Ignorable_Code_Point).',
    }),
  )
  .Decode(normaliseEmail)
  .Encode((email) => email)

/** `{ ok: true }` for a successful delete, as in the tutorial. */
export const Ok = t.Object({ ok: t.Literal(true) })

/** `offset` (or its alias `skip`) and `limit`, as in the tutorial, or `after_id`; `pageOf` applies the defaults. */
export const PageQuery = t.Object({
  offset: t.Optional(integerString({ minimum: 0n, maximum: INT64_MAX, description: 'Rows to skip (default 0).' })),
  skip: t.Optional(integerString({ minimum: 0n, maximum: INT64_MAX, description: 'Alias of `offset`.' })),
  after_id: t.Optional(
    integerString({
      minimum: 0n,
      maximum: INT64_MAX,
      description:
        'The rows after this id (a cursor: as fast deep in the list as at its start; the `Link` header gives the next page). With `offset`, that many of them are skipped first.',
    }),
  ),
  limit: t.Optional(
    integerString({
      minimum: 1n,
      maximum: BigInt(MAX_PAGE_LIMIT),
      description: `Rows to return, 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).`,
    }),
  ),
})

// Elysia's UnionEnum adds a `default` (for its request-side error messages); a response field needs none.
const ErrorCodeSchema = t.UnionEnum(ERROR_CODES, {
  default: undefined,
  description: 'What went wrong, as a stable name to switch on; `detail` is for people and may be reworded.',
})

export const ErrorModel = {
  HTTPError: t.Object(
    { detail: t.String(), code: ErrorCodeSchema },
    { description: 'An error: `detail` explains it, `code` names it.' },
  ),
  HTTPValidationError: t.Object(
    {
      detail: t.Array(
        t.Object({
          loc: t.Array(t.Union([t.String(), Type.Integer()])),
          msg: t.String(),
          type: t.String(),
        }),
      ),
      code: ErrorCodeSchema,
    },
    { description: 'The request did not validate: one entry per field, never echoing the value sent.' },
  ),
} as const

type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503

/** The error responses a route documents; 422 has the validation shape, the others `{detail, code}`. */
export function errorResponses<const S extends ErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((s) => [s, s === 422 ? 'HTTPValidationError' : 'HTTPError'])) as {
    [K in S]: K extends 422 ? 'HTTPValidationError' : 'HTTPError'
  }
}
