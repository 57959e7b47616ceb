// What the route table says about a request path that Elysia does not expose at error time: which
// methods it has (Elysia answers a known path with an unknown method as a 404; the contract wants 405
// with Allow), and what access an operation needs (for 401/403 ahead of a bad body).
import { ACCESS_EXTENSION, type Access } from './auth'

interface Route {
  method: string
  path: string
  hooks?: { detail?: Record<string, unknown> }
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
}

export function createRouteLookup(routes: Route[]): RouteLookup {
  const table = routes.map((route) => ({
    method: route.method,
    pattern: toPattern(route.path),
    access: route.hooks?.detail?.[ACCESS_EXTENSION] as Access | undefined,
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
      // A static segment wins over a parameter (`/users/me` over `/users/:user_id`), as in Elysia's router.
      const candidates = matching(path).filter((route) => route.method === method)
      const staticFirst = candidates.sort((a, b) => specificity(b.pattern) - specificity(a.pattern))
      return staticFirst[0]?.access
    },
  }
}

const specificity = (pattern: RegExp) => -(pattern.source.match(/\[\^\/\]\+/g)?.length ?? 0)
