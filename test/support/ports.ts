// A port nothing listens on at the moment: for a service to listen on, or for a database that
// refuses every connection. (Another process could take it meanwhile; on a test machine none does.)
export function unusedPort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}
