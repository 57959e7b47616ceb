// What the route table says about a request path that Elysia does not expose where it is needed:
// which methods it has (Elysia answers a known path with an unknown method as a 404; the contract
// wants 405 with Allow), what access an operation needs (for 401/403 ahead of a bad body), and
// which bodies it reads: JSON unless it declares `parse` (the login takes the OAuth2 form), none
// without a body schema.
import { ACCESS_EXTENSION, type Access } from './auth'

interface Route {
  method: string
  path: string
  hooks?: { detail?: Record<string, unknown>; parse?: unknown; body?: unknown }
}

/** The media types of body an operation reads. */
export interface BodyTypes {
  json: boolean
  form: boolean
}

/** What a route's body schema and `parse` declare (Elysia keeps `parse: 'urlencoded'` as `{ fn: 'urlencoded' }`). */
function bodyTypes(hooks: Route['hooks']): BodyTypes | undefined {
  if (hooks?.body === undefined) return undefined
  const declared = (Array.isArray(hooks.parse) ? hooks.parse : [])
    .map((hook) => (typeof hook === 'string' ? hook : hook?.fn))
    .filter((fn) => typeof fn === 'string')
  if (declared.length === 0) return { json: true, form: false }
  return { json: declared.includes('json'), form: declared.includes('urlencoded') }
}

const trimSlash = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)

function toPattern(path: string): RegExp {
  const source = trimSlash(path)
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}$`)
}

export interface RouteLookup {
  /** The methods a request path is served with (HEAD wherever GET is), or none. */
  allowedMethods(path: string): string[]
  /** The access an operation needs, if it is a protected one. */
  accessOf(method: string, path: string): Access | undefined
  /** The bodies the operation reads; undefined when it has none (a body sent anyway is ignored). */
  bodyOf(method: string, path: string): BodyTypes | undefined
}

export function createRouteLookup(routes: Route[]): RouteLookup {
  // CORS preflights (OPTIONS on every path, when CORS_ORIGINS is set) are answered before routing:
  // they must not make an unknown path a 405.
  const table = routes
    .filter((route) => route.method !== 'OPTIONS')
    .map((route) => ({
      method: route.method,
      pattern: toPattern(route.path),
      access: route.hooks?.detail?.[ACCESS_EXTENSION] as Access | undefined,
      body: bodyTypes(route.hooks),
    }))
  const matching = (path: string) => {
    const wanted = trimSlash(path)
    return table.filter((route) => route.pattern.test(wanted))
  }
  return {
    allowedMethods(path) {
      const methods = new Set(matching(path).map((route) => route.method))
      if (methods.has('GET')) methods.add('HEAD')
      return [...methods].sort()
    },
    accessOf(method, path) {
      return operation(method, path)?.access
    },
    bodyOf(method, path) {
      return operation(method, path)?.body
    },
  }

  /** The route Elysia serves a request with: HEAD as GET, a static segment over a parameter (`/users/me` over `/users/:user_id`). */
  function operation(method: string, path: string) {
    const wanted = method === 'HEAD' ? 'GET' : method
    const candidates = matching(path).filter((route) => route.method === wanted)
    return candidates.sort((a, b) => specificity(b.pattern) - specificity(a.pattern))[0]
  }
}

const specificity = (pattern: RegExp) => -(pattern.source.match(/\[\^\/\]\+/g)?.length ?? 0)
