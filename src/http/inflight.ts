// A bound on requests in flight (MAX_INFLIGHT): past it, a request is answered 503 with Retry-After
// at once, before any work, so that overload is shed instead of queued: the requests accepted keep
// their latency, and memory does not grow with the queue. The probes are never refused: a
// load balancer must still learn that the process lives and whether it is ready. A request counts
// from its headers, so one whose body trickles in holds its place until IDLE_TIMEOUT_SECONDS cuts
// it off: behind a proxy that buffers bodies (nginx does by default) none reaches the service.
import { UnavailableError } from '../errors'
import { responseFor } from './error-handler'
import { type Handle, pathOf } from './request-log'

// With or without a trailing slash, as every route answers.
const PROBES = new Set(['/livez', '/readyz', '/livez/', '/readyz/'])

const overloaded = () => new UnavailableError('overloaded', 'The service is at capacity, try again', 1)

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
