// Elysia answers a known path with an unknown method as a 404; the contract wants 405 with Allow.
// This looks up which methods a path has, from the app's own route table.

interface Route {
  method: string
  path: string
}

const trimSlash = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)

function toPattern(path: string): RegExp {
  const source = trimSlash(path)
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}$`)
}

/** Returns the methods a request path is served with (HEAD wherever GET is), or none. */
export function createMethodLookup(routes: Route[]): (path: string) => string[] {
  const table = routes.map((route) => ({ method: route.method, pattern: toPattern(route.path) }))
  return (path) => {
    const wanted = trimSlash(path)
    const methods = new Set(table.filter((route) => route.pattern.test(wanted)).map((route) => route.method))
    if (methods.has('GET')) methods.add('HEAD')
    return [...methods].sort()
  }
}
