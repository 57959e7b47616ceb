// Ceiling 3, the minimal handler: the least a Bun service can do for the same authenticated answers
// as the service's GET routes. Bun.serve, the bearer token's HS256 signature and claims checked
// with jose (key imported once), an id check, one postgres.js statement (the same ones the
// service's repositories run, the caller's session check folded in) with no more statements in
// flight than the pool has connections, Response.json. No framework, no validation library, no
// logging: the service's cost over this is what those add.
import { jwtVerify } from 'jose'
import postgres from 'postgres'
import { listItems, listUsers, readItem, readUser } from './statements'

const pool = Number(process.env.DATABASE_POOL_MAX ?? 10)
const sql = postgres(process.env.DATABASE_URL!, { max: pool, onnotice: () => {} })
const key = await crypto.subtle.importKey(
  'raw',
  new TextEncoder().encode(process.env.SECRET_KEY!),
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['verify'],
)
const verifyOptions = {
  algorithms: ['HS256'],
  typ: 'at+jwt',
  issuer: 'users-items-service',
  audience: 'users-items-service',
  requiredClaims: ['exp', 'sub', 'sid'],
}
const ID = /^[1-9][0-9]{0,18}$/

// A counting gate: at most `pool` statements in flight, the rest wait their turn.
let inFlight = 0
const waiting: (() => void)[] = []
async function gated<T>(run: () => Promise<T>): Promise<T> {
  if (inFlight >= pool) await new Promise<void>((resolve) => waiting.push(resolve))
  else inFlight++
  try {
    return await run()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else inFlight--
  }
}

const unauthorized = () => Response.json({ detail: 'Could not validate credentials' }, { status: 401 })

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    const url = new URL(request.url)
    const token = request.headers.get('authorization')?.slice(7)
    if (!token) return unauthorized()
    let sub: string
    let sid: string
    try {
      const { payload } = await jwtVerify(token, key, verifyOptions)
      sub = payload.sub as string
      sid = payload.sid as string
    } catch {
      return unauthorized()
    }
    const window = {
      limit: url.searchParams.get('limit') ?? '100',
      offset: url.searchParams.get('offset') ?? '0',
      after: url.searchParams.get('after_id') ?? undefined,
    }
    const [, resource, id] = url.pathname.split('/')
    if (id && !ID.test(id)) return Response.json({ detail: 'bad id' }, { status: 422 })
    const rows = await gated(() => {
      if (resource === 'users') return id ? readUser(sql, sub, sid, id) : listUsers(sql, sub, sid, window)
      return id ? readItem(sql, sub, sid, id) : listItems(sql, sub, sid, window)
    })
    if (rows.length === 0) return unauthorized()
    const answer = rows.filter((row) => row.id !== null).map(({ caller_id, caller_is_superuser, total, ...row }) => row)
    if (id) return Response.json(answer[0])
    return Response.json(answer, { headers: { 'x-total-count': String(rows[0]!.total) } })
  },
})
console.log(`listening ${server.port}`)
