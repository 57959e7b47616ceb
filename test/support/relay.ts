// A TCP relay to the test database that can be paused, as a frozen server or network would be:
// connections stay open and nothing comes back, so statement_timeout cannot help.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { databaseUrl } from './context'

export interface Relay {
  /** The test database's URL, through the relay. */
  url: string
  pause(): void
  /** How many chunks a pause is holding back: nonzero once a query has been sent while paused. */
  readonly held: number
  /** Delivers what was held back and passes traffic again. */
  resume(): void
  close(): void
}

export async function createRelay(): Promise<Relay> {
  const target = new URL(databaseUrl())
  let paused = false
  const held: (() => void)[] = []
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname)
    const pass = (to: Socket) => (chunk: Buffer) => (paused ? held.push(() => to.write(chunk)) : to.write(chunk))
    client.on('data', pass(upstream))
    upstream.on('data', pass(client))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(databaseUrl())
  url.port = String((server.address() as AddressInfo).port)
  const resume = () => {
    paused = false
    for (const release of held.splice(0)) release()
  }
  return {
    url: url.toString(),
    pause: () => (paused = true),
    get held() {
      return held.length
    },
    resume,
    close: () => {
      resume()
      server.close()
    },
  }
}
