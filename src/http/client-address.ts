// Who is on the other end of a request, for throttling and the sessions list: the socket's address,
// or, when the socket is a trusted proxy's, the nearest address in X-Forwarded-For that is not.
const peers = new WeakMap<Request, string>()

/** `::ffff:1.2.3.4` is 1.2.3.4: one client, one key. */
const normalise = (address: string) => address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')

/** Records the socket's address (src/index.ts has it from Bun's server); returns the request. */
export function withPeer(request: Request, address: string | undefined): Request {
  if (address) peers.set(request, normalise(address))
  return request
}

/** What a request served without a socket (`app.handle` in tests and tools) counts as. */
const UNKNOWN_PEER = 'unknown'

/** The client's address of a request, given the proxies (TRUSTED_PROXIES) whose word is taken. */
export function createClientAddress(trustedProxies: readonly string[]): (request: Request) => string {
  const trusted = new Set(trustedProxies.map(normalise))
  return (request) => {
    let address = peers.get(request) ?? UNKNOWN_PEER
    if (!trusted.has(address)) return address
    // Each proxy appends the address it got the request from: read from the right, past our own proxies.
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map(normalise).filter(Boolean)
    while (forwarded.length > 0 && trusted.has(address)) address = forwarded.pop()!
    return address
  }
}
