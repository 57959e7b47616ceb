// What each scenario sends, with a bearer token wherever the route needs one.
import type { BenchAuth } from './auth'
import { SEED } from './database'
import type { RequestSpec, Workload } from './load'

export interface Scenario {
  name: string
  title: string
  /** Measured against the minimal handler too (a GET it serves). */
  minimal?: boolean
  /** Bound by argon2id, not by the HTTP stack: reported apart. */
  hashing?: boolean
  /** Latency measured at steady rates too (shares of the minimal handler's requests/s). */
  steady?: boolean
  workload(auth: BenchAuth): Promise<Workload>
}

const SAMPLE = 2000
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
const randomUser = () => 1 + Math.floor(Math.random() * SEED.users)
const pick = (requests: RequestSpec[]): Workload => ({ kind: 'pick', requests })
const times = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i))
const owned = (auth: BenchAuth) =>
  auth.owners.flatMap((owner) => owner.itemIds.map((id) => ({ id, headers: bearer(owner.token) })))
const json = { 'Content-Type': 'application/json' }

export const SCENARIOS: Scenario[] = [
  {
    name: 'users-by-id',
    title: 'GET /users/{id} (superuser, with items)',
    minimal: true,
    steady: true,
    workload: async (auth) =>
      pick(
        times(SAMPLE, () => ({ method: 'GET', path: `/users/${randomUser()}`, headers: bearer(auth.superuserToken) })),
      ),
  },
  {
    name: 'items-by-id',
    title: 'GET /items/{id} (owner)',
    minimal: true,
    steady: true,
    workload: async (auth) =>
      pick(owned(auth).map(({ id, headers }) => ({ method: 'GET', path: `/items/${id}`, headers }))),
  },
  {
    name: 'users-list',
    title: 'GET /users/?limit=100',
    minimal: true,
    workload: async (auth) =>
      pick([{ method: 'GET', path: '/users/?limit=100', headers: bearer(auth.superuserToken) }]),
  },
  {
    name: 'items-list',
    title: 'GET /items/?limit=100',
    minimal: true,
    workload: async (auth) =>
      pick([{ method: 'GET', path: '/items/?limit=100', headers: bearer(auth.superuserToken) }]),
  },
  {
    name: 'items-list-deep',
    title: 'GET /items/?offset=250000&limit=100',
    minimal: true,
    workload: async (auth) =>
      pick([{ method: 'GET', path: '/items/?offset=250000&limit=100', headers: bearer(auth.superuserToken) }]),
  },
  {
    name: 'items-list-keyset',
    title: 'GET /items/?after_id=250000&limit=100',
    minimal: true,
    workload: async (auth) =>
      pick([{ method: 'GET', path: '/items/?after_id=250000&limit=100', headers: bearer(auth.superuserToken) }]),
  },
  {
    name: 'items-create',
    title: 'POST /items/',
    workload: async (auth) =>
      pick(
        auth.owners.map((owner, i) => ({
          method: 'POST',
          path: '/items/',
          headers: { ...bearer(owner.token), ...json },
          body: JSON.stringify({ title: `Bench item ${i}`, description: 'Made under load' }),
        })),
      ),
  },
  {
    name: 'items-update',
    title: 'PATCH /items/{id}',
    workload: async (auth) =>
      pick(
        owned(auth).map(({ id, headers }) => ({
          method: 'PATCH',
          path: `/items/${id}`,
          headers: { ...headers, ...json },
          body: JSON.stringify({ title: `Renamed ${id}` }),
        })),
      ),
  },
  {
    name: 'login',
    title: 'POST /login/access-token (argon2id)',
    hashing: true,
    workload: async () =>
      pick(
        times(SAMPLE, () => ({
          method: 'POST',
          path: '/login/access-token',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            username: `user-${randomUser()}@bench.example`,
            password: SEED.password,
          }).toString(),
        })),
      ),
  },
  {
    name: 'refresh',
    title: 'POST /login/refresh',
    workload: async (auth) => ({ kind: 'refresh', path: '/login/refresh', tokens: await auth.refreshTokens(256) }),
  },
]

const requestsOf = (workload: Workload) => (workload.kind === 'pick' ? workload.requests : [])
const scenario = (name: string) => SCENARIOS.find((candidate) => candidate.name === name)!

/**
 * The mixed load, as three loads run at once: reads (GET a user or an item) on 90% of the
 * connections, writes (create or rename an item) on 10%, and 10 more connections logging in, so
 * that password hashing competes for the cores while reads are measured.
 */
export async function mixedWorkloads(
  auth: BenchAuth,
): Promise<{ reads: Workload; writes: Workload; logins: Workload }> {
  const of = async (...names: string[]) =>
    pick((await Promise.all(names.map((name) => scenario(name).workload(auth)))).flatMap(requestsOf))
  return {
    reads: await of('users-by-id', 'items-by-id'),
    writes: await of('items-create', 'items-update'),
    logins: await scenario('login').workload(auth),
  }
}
