// Elysia's validation failures as FastAPI shapes them: {"detail":[{"loc","msg","type"}]}, one item
// per field, with FastAPI's type words. The submitted values are never echoed (passwords would leak).
import type { TSchema } from '@sinclair/typebox'
import { ValueErrorType } from '@sinclair/typebox/errors'
import { Value } from '@sinclair/typebox/value'
import { codePoints, EMAIL_MAX_LENGTH } from '../emails'
import type { ValidationIssue } from './errors'
import { INTEGER_FORMAT_PREFIX, INTEGER_PATTERN, NUL_PATTERN, textLengths } from './schema'

interface SchemaLike {
  type?: string
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number | string
  maximum?: number | string
  anyOf?: SchemaLike[]
}

export interface ElysiaValueError {
  type: number
  path: string
  schema: SchemaLike
}

const where: Record<string, string> = {
  body: 'body',
  params: 'path',
  query: 'query',
  headers: 'header',
  cookie: 'cookie',
}

const plural = (n: number | undefined, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function valueAt(root: unknown, segments: string[]): unknown {
  let value = root
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

/** The type word and message for one failed check, as pydantic words them. */
function describe(error: ElysiaValueError, value: unknown): Omit<ValidationIssue, 'loc'> {
  const schema = error.schema
  if (value === undefined) return { type: 'missing', msg: 'Field required' }
  switch (error.type) {
    case ValueErrorType.String:
      return { type: 'string_type', msg: 'Input should be a valid string' }
    case ValueErrorType.StringMinLength:
      return { type: 'string_too_short', msg: `String should have at least ${plural(schema.minLength, 'character')}` }
    case ValueErrorType.StringMaxLength:
      return { type: 'string_too_long', msg: `String should have at most ${plural(schema.maxLength, 'character')}` }
    case ValueErrorType.StringPattern:
      if (schema.pattern === INTEGER_PATTERN)
        return { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' }
      if (schema.pattern === NUL_PATTERN)
        return { type: 'string_pattern_mismatch', msg: 'String should not contain NUL characters' }
      return { type: 'string_pattern_mismatch', msg: `String should match pattern '${schema.pattern}'` }
    case ValueErrorType.StringFormat: {
      if (typeof value !== 'string') return { type: 'string_type', msg: 'Input should be a valid string' }
      const lengths = textLengths(schema.format)
      if (lengths || schema.format === 'email') {
        const { minLength, maxLength } = lengths ?? { minLength: 0, maxLength: EMAIL_MAX_LENGTH }
        if (lengths && !value.isWellFormed())
          return { type: 'string_pattern_mismatch', msg: 'String should not contain unpaired surrogates' }
        const length = codePoints(value)
        if (length < minLength)
          return { type: 'string_too_short', msg: `String should have at least ${plural(minLength, 'character')}` }
        if (length > maxLength)
          return { type: 'string_too_long', msg: `String should have at most ${plural(maxLength, 'character')}` }
      }
      if (schema.format === 'email') return { type: 'value_error', msg: 'value is not a valid email address' }
      if (schema.format?.startsWith(INTEGER_FORMAT_PREFIX) && typeof value === 'string') {
        return BigInt(value) < BigInt(schema.minimum ?? 0)
          ? { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${schema.minimum}` }
          : { type: 'less_than_equal', msg: `Input should be less than or equal to ${schema.maximum}` }
      }
      return { type: 'value_error', msg: `Value should match format '${schema.format}'` }
    }
    case ValueErrorType.Boolean:
      return { type: 'bool_type', msg: 'Input should be a valid boolean' }
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
      return { type: 'int_type', msg: 'Input should be a valid integer' }
    case ValueErrorType.Object:
      return {
        type: 'model_attributes_type',
        msg: 'Input should be a valid dictionary or object to extract fields from',
      }
    case ValueErrorType.Union: {
      // A nullable field that failed: describe the first check its non-null member failed.
      const member = schema.anyOf?.find((s) => s.type !== 'null')
      const inner = member && Value.Errors(member as TSchema, value).First()
      if (inner) return describe({ type: inner.type, path: error.path, schema: inner.schema as SchemaLike }, value)
      return { type: 'value_error', msg: 'Input is not valid' }
    }
    default:
      return { type: 'value_error', msg: 'Input is not valid' }
  }
}

/** One issue per location (the first check that failed there), in the order TypeBox found them. */
export function toValidationIssues(on: string, value: unknown, errors: ElysiaValueError[]): ValidationIssue[] {
  const issues = new Map<string, ValidationIssue>()
  for (const error of errors) {
    const segments = error.path.split('/').filter(Boolean)
    const key = segments.join('/')
    if (issues.has(key)) continue
    const loc = [where[on] ?? on, ...segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s))]
    issues.set(key, { loc, ...describe(error, segments.length ? valueAt(value, segments) : value) })
  }
  return [...issues.values()]
}
