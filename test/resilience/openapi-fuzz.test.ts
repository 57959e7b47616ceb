// A property-based fuzzer driven by the service's own /openapi.json, as Schemathesis would run it:
// for every operation, requests the document allows (they must not be refused as invalid), requests
// it forbids (one field or parameter broken: they must not be accepted), requests without a token
// or with too little of one, and random paths and methods. Each answer is checked: no 5xx, a status
// the operation declares, a JSON body that matches the declared schema, JSON as declared.
// FUZZ_SEED reproduces a run (it is printed); FUZZ_CASES sets how many requests (default 10,000).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import { createLogger } from '../../src/logger'
import { createPasswordHasher } from '../../src/security/passwords'
import { type Account, createTestContext, type TestContext, type TestUser } from '../support/context'
import { OpenApiDocument, type Schema } from '../support/openapi'
import { report } from '../support/resilience-report'
import { SchemaSampler } from '../support/schema-arbitrary'
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch'

setDefaultTimeout(900_000)

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CASES = Number(process.env.FUZZ_CASES ?? 10_000)

// argon2id at a test's cost: the fuzzer exercises the HTTP contract, and thousands of sign-ups and
// logins at production cost would take minutes.
const cheapArgon2id = {
  hash: (password: string) => Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: 64, timeCost: 1 }),
  verify: (password: string, hash: string) => Bun.password.verify(password, hash),
}
// A database of its own: a superuser deleting and changing users by made-up ids must not reach
// anything another file made.
let scratch: ScratchDatabase
let ctx: TestContext

type Kind = 'valid' | 'invalid-body' | 'invalid-parameter' | 'no-token' | 'weaker-token' | 'random-route'
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'positive_data_acceptance',
  'negative_data_rejection',
  'authentication_enforced',
] as const
type Check = (typeof CHECKS)[number]

interface Operation {
  key: string
  method: string
  path: string
  op: Schema
}

/** One generated request, before ids from the database are filled in. */
interface Case {
  kind: Kind
  operation: number
  path: Record<string, string>
  /** Which existing row an id parameter names, when it names one (most do). */
  pick: number
  real: boolean
  query: Record<string, string>
  headers: Record<string, string>
  body: unknown
  randomRoute: { method: string; path: string }
}

let api: OpenApiDocument
let operations: Operation[]
let sampler: SchemaSampler
let ajv: Ajv2020
let superuser: Account
let user: Account
const pools = { user_id: [] as number[], item_id: [] as number[], session_id: [] as string[] }
const failures = new Map<Check, { count: number; first: string }>()
let sent = 0
/** Every line the service logged during the run, and the secrets none of them may hold. */
const logLines: string[] = []
const secrets = new Set<string>()

beforeAll(async () => {
  scratch = await createScratchDatabase({ migrated: true })
  ctx = createTestContext({
    url: scratch.url,
    passwords: (config) => createPasswordHasher(config.passwordHash, cheapArgon2id),
    logger: createLogger({ level: 'debug', json: true, write: (line) => logLines.push(line) }),
  })
  const doc = (await ctx.request('GET', '/openapi.json')).body as Schema
  api = new OpenApiDocument(doc)
  operations = api.operations()
  sampler = new SchemaSampler(doc)
  ajv = new Ajv2020({ strict: false, allErrors: false })
  addFormats(ajv)
  ajv.addFormat('int64', true)
  ajv.addSchema({ $id: 'doc', components: doc.components })
  // One after the other, so that a seed gives the same ids, and so the same run.
  superuser = await ctx.account({ superuser: true })
  user = await ctx.account()
  for (let i = 0; i < 4; i++) {
    const victim: TestUser = await ctx.createUser()
    pools.user_id.push(victim.id)
    for (const title of ['one', 'two'])
      pools.item_id.push(
        (await ctx.sql`insert into items (title, owner_id) values (${title}, ${victim.id}) returning id::int`)[0]!.id,
      )
  }
  pools.user_id.push(user.id, superuser.id)
  pools.session_id.push(user.sessionId)
})

afterAll(async () => {
  await ctx?.cleanup()
  await scratch?.drop()
})

const validators = new Map<string, ValidateFunction>()
/** Whether `value` is what `schema` (a fragment of the document) allows, as JSON Schema reads it. */
function allows(schema: Schema, value: unknown): boolean {
  const text = JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')
  let validate = validators.get(text)
  if (!validate) {
    validate = ajv.compile(JSON.parse(text))
    validators.set(text, validate)
  }
  return validate(value)
}

const parametersOf = (op: Schema, where: string): Schema[] =>
  ((op.parameters ?? []) as Schema[]).filter((p) => p.in === where)

/** A parameter's text as a client sends it: integers in decimal. */
function parameterAllows(parameter: Schema, text: string): boolean {
  const schema = sampler.resolve(parameter.schema)
  if (schema.type !== 'integer') return allows(schema, text)
  if (!/^-?(0|[1-9][0-9]*)$/.test(text)) return false
  const n = BigInt(text)
  const bound = (value: unknown, fallback: bigint) => (typeof value === 'number' ? BigInt(value) : fallback)
  return n >= bound(schema.minimum, -(2n ** 63n)) && n <= bound(schema.maximum, 2n ** 63n - 1n)
}

const BAD_INTEGERS = ['abc', '1.5', '-1', '0x10', '1e3', '99999999999999999999', '', ' 7', '٣']
const BAD_KEYS = ['', 'a b', 'clé', 'k'.repeat(256), '"open']

function caseFor(index: number, { op }: Operation): fc.Arbitrary<Case> {
  const bodySchema: Schema | undefined = Object.values((op.requestBody?.content ?? {}) as Record<string, Schema>)[0]
    ?.schema
  const pathParameters = parametersOf(op, 'path')
  const queryParameters = parametersOf(op, 'query')
  const headerParameters = parametersOf(op, 'header')
  const asText = (value: unknown) => String(value)
  const kinds: Kind[] = ['valid', 'valid', 'valid', 'valid', 'invalid-parameter', 'random-route']
  if (bodySchema) kinds.push('invalid-body', 'invalid-body')
  if (op.security) kinds.push('no-token', 'weaker-token')
  const paths = fc.record(
    Object.fromEntries(pathParameters.map((p) => [p.name, sampler.valid(p.schema).map(asText)])),
  ) as fc.Arbitrary<Record<string, string>>
  const queries = fc.record(
    Object.fromEntries(queryParameters.map((p) => [p.name, sampler.valid(p.schema).map(asText)])),
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>
  const headers = fc.record(
    Object.fromEntries(headerParameters.map((p) => [p.name, sampler.valid(p.schema).map(asText)])),
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>
  return fc.record({
    kind: fc.constantFrom(...kinds),
    operation: fc.constant(index),
    path: paths,
    pick: fc.nat(),
    real: fc.boolean(),
    query: queries,
    headers,
    // Now and then a field the document does not name: allowed (no additionalProperties: false),
    // so it must be ignored, whatever it is called.
    body: bodySchema
      ? fc
          .tuple(
            sampler.valid(bodySchema),
            fc.option(
              fc.tuple(fc.constantFrom('extra', 'id', 'owner_id', 'hashed_password', 'created_at'), fc.jsonValue()),
              {
                freq: 4,
              },
            ),
          )
          .map(([body, extra]) =>
            extra && body !== null && typeof body === 'object' && !Array.isArray(body)
              ? { ...body, [extra[0]]: extra[1] }
              : body,
          )
      : fc.constant(undefined),
    randomRoute: fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'),
      path: fc.oneof(
        fc.webPath(),
        fc.constantFrom('/users', '/users/', '/items//', '/users/1/items/x', '/docs/../openapi.json', '/%00', '/%ff'),
      ),
    }),
  })
}

/** The request a case makes, and whether the document allows it (undefined: it forbids it). */
async function requestOf(c: Case): Promise<{
  method: string
  path: string
  init: Parameters<TestContext['request']>[2]
  allowed: boolean
  operation?: Operation
}> {
  if (c.kind === 'random-route')
    return { method: c.randomRoute.method, path: c.randomRoute.path, init: {}, allowed: true }
  const operation = operations[c.operation]!
  const { op } = operation
  const path = { ...c.path }
  for (const name of Object.keys(path)) {
    const pool = pools[name as keyof typeof pools]
    if (c.real && pool?.length) path[name] = String(pool[c.pick % pool.length])
  }
  const query = { ...c.query }
  const headers: Record<string, string> = { ...c.headers }
  let body = c.body
  if (c.kind === 'invalid-parameter') {
    const parameters = (op.parameters ?? []) as Schema[]
    if (parameters.length > 0) {
      const parameter = parameters[c.pick % parameters.length]!
      // An empty path segment would name another route, not break this one's parameter.
      const bad = parameter.in === 'header' ? BAD_KEYS : BAD_INTEGERS.filter((v) => parameter.in !== 'path' || v !== '')
      const value = bad[(c.pick >> 4) % bad.length]!
      if (parameter.in === 'path') path[parameter.name] = encodeURIComponent(value)
      else if (parameter.in === 'query') query[parameter.name] = value
      else headers[parameter.name] = value
    }
  }
  if (c.kind === 'invalid-body') {
    const schema = Object.values((op.requestBody?.content ?? {}) as Record<string, Schema>)[0]!.schema
    body = fc.sample(sampler.invalid(schema), { numRuns: 1, seed: c.pick })[0]
  }
  // Passwords long and odd enough not to occur in a log line by chance.
  if (body !== null && typeof body === 'object')
    for (const [name, value] of Object.entries(body))
      if (/password/.test(name) && typeof value === 'string' && value.length >= 12 && /[^a-z/]/.test(value))
        secrets.add(value)
  const contents = Object.keys(op.requestBody?.content ?? {})
  const form = contents[0] === 'application/x-www-form-urlencoded'
  const init: NonNullable<Parameters<TestContext['request']>[2]> = { headers }
  if (body !== undefined) {
    if (form && body !== null && typeof body === 'object' && !Array.isArray(body))
      init.form = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))
    else init.json = body
  }
  if (op.security && c.kind !== 'no-token') {
    const needsSuperuser = op['x-access'] === 'superuser'
    init.token =
      c.kind === 'weaker-token'
        ? needsSuperuser
          ? user.token
          : undefined
        : needsSuperuser
          ? superuser.token
          : user.token
  }

  // What the document says of the request as it will be sent.
  const bodySchema = Object.values((op.requestBody?.content ?? {}) as Record<string, Schema>)[0]?.schema
  const sentBody = init.form ?? init.json
  const bodyAllowed = !bodySchema || (sentBody !== undefined && allows(bodySchema, sentBody))
  const parametersAllowed = ((op.parameters ?? []) as Schema[]).every((p) => {
    const value =
      p.in === 'path' ? decodeURIComponent(path[p.name] ?? '') : p.in === 'query' ? query[p.name] : headers[p.name]
    return value === undefined ? !p.required : parameterAllows(p, value)
  })
  const url = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => path[name] ?? '')
  const search = new URLSearchParams(query).toString()
  return {
    method: operation.method.toUpperCase(),
    path: search ? `${url}?${search}` : url,
    init,
    allowed: bodyAllowed && parametersAllowed,
    operation,
  }
}

function fail(check: Check, detail: string) {
  const seen = failures.get(check)
  if (seen) seen.count++
  else failures.set(check, { count: 1, first: detail })
}

/** Accounts a case may have ended (logged out, deleted, deactivated, demoted, promoted) are made again. */
async function keepCallers() {
  const me = async (account: Account) => ctx.request('GET', '/users/me', { token: account.token })
  const ordinary = await me(user)
  if (ordinary.status !== 200 || ordinary.body.is_superuser !== false) {
    user = await ctx.account()
    pools.user_id.push(user.id)
    pools.session_id.push(user.sessionId)
  }
  const su = await me(superuser)
  if (su.status !== 200 || su.body.is_superuser !== true) {
    superuser = await ctx.account({ superuser: true })
    pools.user_id.push(superuser.id)
  }
}

describe('the OpenAPI document, fuzzed', () => {
  test(`${CASES} generated requests (FUZZ_SEED=${SEED}): every answer as the document says`, async () => {
    console.log(`fuzzing with FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}`)
    const cases = fc.sample(fc.oneof(...operations.map((operation, i) => caseFor(i, operation))), {
      numRuns: CASES,
      seed: SEED,
    })
    const byStatus = new Map<number, number>()
    for (const c of cases) {
      const { method, path, init, allowed, operation } = await requestOf(c)
      const res = await ctx.request(method, path, init)
      sent++
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1)
      const described = `${c.kind} ${method} ${path} ${JSON.stringify(init?.json ?? init?.form ?? null).slice(0, 300)} ${init?.token ? '(token)' : '(no token)'} -> ${res.status} ${res.text.slice(0, 300)}`
      if (res.status >= 500) fail('not_a_server_error', described)
      const contentType = res.headers.get('content-type') ?? ''
      if (operation) {
        const declared = operation.op.responses[String(res.status)] as Schema | undefined
        if (!declared) fail('status_code_conformance', described)
        const media = declared?.content?.['application/json'] as Schema | undefined
        if (media && method !== 'HEAD') {
          if (!contentType.startsWith('application/json')) fail('content_type_conformance', described)
          else if (!allows(media.schema, res.body)) fail('response_schema_conformance', described)
        }
        // Refused for what it is, not for what happened before: a key an earlier case used with
        // another body is a 422 of the IETF draft's, about the key's history, not the request.
        const refusedAsInvalid =
          (res.status === 422 && res.body?.code !== 'idempotency_key_reused') ||
          res.status === 415 ||
          (res.status === 400 && res.body?.code === 'malformed_body')
        if (allowed && refusedAsInvalid) fail('positive_data_acceptance', described)
        if (!allowed && res.status < 300) fail('negative_data_rejection', described)
        // Without a token, 401; an ordinary user's on a superuser's operation, 403.
        if (operation.op.security && !init?.token && res.status !== 401) fail('authentication_enforced', described)
        if (operation.op['x-access'] === 'superuser' && init?.token === user.token && res.status !== 403)
          fail('authentication_enforced', described)
      } else if (res.status >= 400 && method !== 'HEAD') {
        // A route that does not exist still answers in the error contract.
        if (!contentType.startsWith('application/json')) fail('content_type_conformance', described)
        else if (!allows({ $ref: '#/components/schemas/HTTPError' }, res.body))
          fail('response_schema_conformance', described)
      }
      const mayEndCallers =
        res.status < 300 && (path.startsWith('/users/') || path.startsWith('/logout')) && method !== 'GET'
      if (mayEndCallers) await keepCallers()
    }
    console.log(`answers by status: ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}`)
    const table = CHECKS.map((check) => ({ check, failures: failures.get(check)?.count ?? 0 }))
    for (const row of table)
      report(`OpenAPI fuzzing: ${sent} requests, FUZZ_SEED=${SEED} (test/resilience/openapi-fuzz.test.ts)`, row)
    for (const [check, { first }] of failures) console.log(`first ${check}: ${first}`)
    expect(sent).toBe(CASES)
    // Nothing secret reached the log: no password sent, no token, no hash, not the database's password.
    for (const account of [superuser, user]) secrets.add(account.token).add(account.refreshToken).add(account.password)
    secrets.add('$argon2').add(decodeURIComponent(new URL(scratch.url).password))
    const log = logLines.join('\n')
    expect(logLines.length).toBeGreaterThan(CASES)
    expect(secrets.size).toBeGreaterThan(100)
    const leaked = [...secrets].filter((secret) => log.includes(secret))
    report(`OpenAPI fuzzing: ${sent} requests, FUZZ_SEED=${SEED} (test/resilience/openapi-fuzz.test.ts)`, {
      check: `no secret in the log (${secrets.size} secrets, ${logLines.length} lines)`,
      failures: leaked.length,
    })
    expect(leaked.map((secret) => secret.slice(0, 4))).toEqual([])
    // The cases reached past validation: most operations answered with success some of the time.
    expect([...byStatus.keys()].some((status) => status === 201)).toBe(true)
    expect([...byStatus.keys()].some((status) => status === 200)).toBe(true)
    expect(Object.fromEntries(table.map(({ check, failures }) => [check, failures]))).toEqual(
      Object.fromEntries(CHECKS.map((check) => [check, 0])),
    )
  })
})
