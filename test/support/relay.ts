// A TCP relay to the test database that can be paused, as a frozen server or network would be:
// connections stay open and nothing comes back, so statement_timeout cannot help. Or cut, as a
// database that went away would be: every connection dropped, and new ones refused.
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
  /** Drops every connection and refuses new ones, as a database that went away would. */
  cut(): Promise<void>
  /** Listens again, on the same port, after `cut`. */
  restore(): Promise<void>
  close(): void
}

export async function createRelay(): Promise<Relay> {
  const target = new URL(databaseUrl())
  let paused = false
  const held: (() => void)[] = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  }
  const server = createServer((client) => {
    track(client)
    const upstream = connect(Number(target.port), target.hostname)
    track(upstream)
    const pass = (to: Socket) => (chunk: Buffer) => (paused ? held.push(() => to.write(chunk)) : to.write(chunk))
    client.on('data', pass(upstream))
    upstream.on('data', pass(client))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(0)
  const url = new URL(databaseUrl())
  const port = (server.address() as AddressInfo).port
  url.port = String(port)
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
    cut: async () => {
      const stopped = new Promise((resolve) => server.close(resolve))
      for (const socket of sockets) socket.destroy()
      await stopped
    },
    restore: () => listen(port),
    close: () => {
      resume()
      server.close()
    },
  }
}
