// A bound on requests in flight (MAX_INFLIGHT): past it, a request is answered 503 with Retry-After
// at once, before any work, so that overload is shed instead of queued: the requests accepted keep
// their latency, and memory does not grow with the queue. The probes are never refused: a
// load balancer must still learn that the process lives and whether it is ready.
import { UnavailableError } from '../errors'
import { responseFor } from './error-handler'
import type { Handle } from './request-log'

const PROBES = new Set(['/livez', '/readyz'])

const overloaded = () => new UnavailableError('overloaded', 'The service is at capacity, try again', 1)

const pathOf = (url: string) => {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  const end = url.indexOf('?', start)
  return url.slice(start, end === -1 ? undefined : end)
}

/** `handle`, refusing requests beyond `max` in flight (0: no bound). */
export function withInflightLimit(handle: Handle, max: number): Handle {
  if (max === 0) return handle
  let inflight = 0
  return async (request) => {
    if (inflight >= max && !PROBES.has(pathOf(request.url))) return responseFor(overloaded())
    inflight++
    try {
      return await handle(request)
    } finally {
      inflight--
    }
  }
}
