// What the route table says about a request path that Elysia does not expose where it is needed:
// which methods it has (Elysia answers a known path with an unknown method as a 404; the contract
// wants 405 with Allow), what access an operation needs (for 401/403 ahead of a bad body), and
// whether it takes a form (`parse: 'urlencoded'`) rather than JSON.
import { ACCESS_EXTENSION, type Access } from './auth'

interface Route {
  method: string
  path: string
  hooks?: { detail?: Record<string, unknown>; parse?: unknown }
}

/** Whether a route declared `parse: 'urlencoded'` (Elysia keeps it as `{ fn: 'urlencoded' }`). */
const declaresForm = (parse: unknown) =>
  Array.isArray(parse) && parse.some((hook) => hook === 'urlencoded' || hook?.fn === 'urlencoded')

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
  /** Whether the operation takes `application/x-www-form-urlencoded` (the login) rather than JSON. */
  takesForm(method: string, path: string): boolean
}

export function createRouteLookup(routes: Route[]): RouteLookup {
  const table = routes.map((route) => ({
    method: route.method,
    pattern: toPattern(route.path),
    access: route.hooks?.detail?.[ACCESS_EXTENSION] as Access | undefined,
    form: declaresForm(route.hooks?.parse),
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
    takesForm(method, path) {
      return operation(method, path)?.form ?? false
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
