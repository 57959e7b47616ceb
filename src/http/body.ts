// How a request body is read, in the contract's order: too large (413), not the route's media type
// (415), malformed (400); validation (422) comes after, in Elysia. Routes take JSON; the login takes
// the OAuth2 password form (`application/x-www-form-urlencoded`) as FastAPI does, and the refresh
// either. A route without a body schema ignores any body, unread. Bun's own limit is kept above ours
// (it answers 413 with an empty body), so clients always get the JSON error.
import { RequestError, ValidationFailedError } from './errors'
import type { BodyTypes } from './route-lookup'

const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase()
const isJson = (type: string) =>
  type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
const FORM = 'application/x-www-form-urlencoded'

async function readText(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      size += chunk.byteLength
      if (size > maxBytes) throw tooLarge(maxBytes)
      chunks.push(chunk)
    }
  } catch (error) {
    // A stream that broke mid-way (the client went away, say) is a body that could not be read.
    throw error instanceof RequestError ? error : malformedBody()
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw malformedBody()
  }
}

const tooLarge = (maxBytes: number) =>
  new RequestError('body_too_large', `Request body is larger than ${maxBytes} bytes`)
export const malformedBody = () => new RequestError('malformed_body', 'There was an error parsing the body')
const notAnObject = () =>
  new ValidationFailedError([
    {
      loc: ['body'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      type: 'model_attributes_type',
    },
  ])

/** Bodies here are flat objects; a deeper one would only exhaust the validator's stack (a 500). */
const MAX_DEPTH = 32

function nestedTooDeep(value: unknown): boolean {
  const pending: [unknown, number][] = [[value, 0]]
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!
    if (node === null || typeof node !== 'object') continue
    if (depth >= MAX_DEPTH) return true
    for (const child of Object.values(node)) pending.push([child, depth + 1])
  }
  return false
}

/** A form's fields as an object of strings; a repeated field keeps its last value. */
function parseForm(text: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null)
  for (const [name, value] of new URLSearchParams(text)) fields[name] = value
  return { ...fields }
}

/**
 * Elysia `parse` hook for every route. An absent or empty body reads as `{}`, so validation answers
 * 422 naming each missing field. `bodyOf` says which bodies an operation reads, if any.
 */
export function parseBody(maxBytes: number, bodyOf: (method: string, path: string) => BodyTypes | undefined) {
  return async ({ request, path }: { request: Request; path: string }): Promise<unknown> => {
    const accepts = bodyOf(request.method, path)
    if (!accepts) return {}
    const declared = request.headers.get('content-length')
    if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes)
    if (request.body === null || declared === '0') return {}
    const type = mediaType(request.headers.get('content-type') ?? '')
    const form = accepts.form && type === FORM
    if (!form && !(accepts.json && isJson(type))) {
      // A body may still turn out to be empty (chunked with no data): that is not a type problem.
      const text = await readText(request.body, maxBytes)
      if (text.length === 0) return {}
      const wanted = [accepts.json && 'application/json', accepts.form && FORM].filter(Boolean).join(' or ')
      throw new RequestError('unsupported_media_type', `Content-Type must be ${wanted}`)
    }
    const text = await readText(request.body, maxBytes)
    if (form) return parseForm(text)
    if (text.trim().length === 0) return {}
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw malformedBody()
    }
    // Every body here is an object; Elysia would otherwise report an array's missing fields.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw notAnObject()
    if (nestedTooDeep(body)) {
      throw new ValidationFailedError([
        { loc: ['body'], msg: `Input should not be nested more than ${MAX_DEPTH} levels deep`, type: 'value_error' },
      ])
    }
    return body
  }
}
