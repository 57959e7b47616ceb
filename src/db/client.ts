import { connect, type Socket } from 'node:net'
import postgres, { type Sql } from 'postgres'
import type { DatabaseConfig } from '../config'
import type { Logger } from '../logger'

/**
 * The sockets postgres.js talks over. A server that closes a new connection before answering at
 * all (a proxy in front of a database that is down, a server going away mid-handshake) gets its
 * socket failed with ECONNRESET: postgres.js 3.4.9 takes a clean close there for a reason to
 * reconnect, in a loop that never fails the query waiting for that connection (measured: every
 * request then waited for the 6 s query deadline, instead of a 503 at once).
 */
function openSockets() {
  let next = 0
  return (options: { host: string[]; port: number[]; path?: string | false }): Socket => {
    const index = next++ % options.host.length
    const host = options.host[index]!
    const port = options.port[index] ?? options.port[0]!
    const socket = options.path ? connect({ path: options.path }) : connect(port, host)
    // For postgres.js's error messages, as its own sockets carry them.
    Object.assign(socket, { host, port })
    let answered = false
    socket.once('data', () => {
      answered = true
    })
    // Registered before postgres.js's own listeners, so it hears of the error first.
    socket.once('close', (hadError) => {
      if (answered || hadError) return
      const reset = Object.assign(new Error('The database closed the connection before answering'), {
        code: 'ECONNRESET',
      })
      socket.emit('error', reset)
    })
    return socket
  }
}

/** The one postgres.js pool of the process: made at start, passed to createApp, ended at shutdown. */
export function createSql(url: string, config: DatabaseConfig, logger: Logger): Sql {
  return postgres(url, {
    max: config.poolMax,
    connect_timeout: config.connectTimeoutSeconds,
    idle_timeout: config.idleTimeoutSeconds,
    prepare: config.prepare,
    // A documented option (the README's "Custom socket") that postgres.js's types leave out.
    ...({ socket: openSockets() } as object),
    // The default backoff keeps requests waiting for seconds after the database is back; a short
    // one, capped at half a second, fails fast during an outage and reconnects soon after it.
    backoff: (attempt) => Math.min(0.05 * 2 ** attempt, 0.5),
    connection: {
      application_name: 'users-service',
      // A startup parameter: PgBouncer refuses it unless listed in ignore_startup_parameters, so
      // behind PgBouncer set it to 0 here and on the database role instead (see the README).
      ...(config.statementTimeoutMs > 0 && { statement_timeout: config.statementTimeoutMs }),
    },
    onnotice: (notice) => logger.debug('database notice', { message: notice.message, code: notice.code }),
  })
}
