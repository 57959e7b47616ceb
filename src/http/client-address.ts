// Who is on the other end of a request, for throttling and the sessions list: the socket's address,
// or, when the socket is a trusted proxy's, the nearest address in X-Forwarded-For that is not.
import { addressMatcher, canonicalAddress } from '../addresses'

/** Each request's socket address as Bun gave it: made canonical only when asked, as most routes never ask. */
const peers = new WeakMap<Request, string>()

/** What a request served without a socket (`app.handle` in tests and tools) counts as. */
const UNKNOWN_PEER = 'unknown'

/** Records the socket's address (src/index.ts has it from Bun's server); returns the request. */
export function withPeer(request: Request, address: string | undefined): Request {
  if (address) peers.set(request, address)
  return request
}

/** The client's address of a request, given the proxies (TRUSTED_PROXIES: addresses or ranges) whose word is taken. */
export function createClientAddress(trustedProxies: readonly string[]): (request: Request) => string {
  const matchers = trustedProxies.map(addressMatcher).filter((match) => match !== undefined)
  const trusted = (address: string) => matchers.some((match) => match(address))
  return (request) => {
    const peer = peers.get(request)
    let address = peer === undefined ? UNKNOWN_PEER : (canonicalAddress(peer) ?? peer)
    // Each proxy appends the address it got the request from: read from the right, past our own
    // proxies. Something that is not an address ends the chain: the last proxy is all we know.
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').filter((entry) => entry.trim())
    while (trusted(address) && forwarded.length > 0) {
      const next = canonicalAddress(forwarded.pop()!)
      if (next === undefined) break
      address = next
    }
    return address
  }
}
