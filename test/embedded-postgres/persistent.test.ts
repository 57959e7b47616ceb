// A cluster's life: a persistent one keeps its data and URL across restarts and is never taken over;
// a throwaway one runs without fsync and leaves nothing behind. Real clusters in temporary folders only.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startEmbeddedPostgres } from '../../src/embedded-postgres'
import { isRunning } from '../support/processes'
import {
  clusterKit,
  isRoot,
  mode,
  postgresUid,
  postmasterPid,
  RELOCATED,
  recordingLogger,
  setting,
  TIMEOUT,
  withSql,
} from './support'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const { tempFolder, start } = clusterKit()

test(
  'a persistent cluster keeps its data and URL across restarts, in UTF-8 whatever the locale, on 127.0.0.1 only',
  async () => {
    const dataDir = join(tempFolder(0o755), '.data')
    const { logger, text } = recordingLogger()
    const saved = { LANG: process.env.LANG, LC_ALL: process.env.LC_ALL }
    process.env.LANG = ''
    process.env.LC_ALL = 'C'
    try {
      const first = await start({ dataDir, persistent: true, logger })
      // As root, a checkout the postgres user cannot enter (CI clones into a 0700 folder) keeps
      // its programs and cluster under /var/tmp; anywhere else the cluster sits in dataDir.
      const pointer = join(dataDir, 'cluster-location')
      const home = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : realpathSync(dataDir)
      expect(home === realpathSync(dataDir) || (isRoot && home.startsWith(RELOCATED))).toBe(true)
      expect(first.clusterDir).toBe(join(home, 'postgres'))
      expect(mode(first.clusterDir)).toBe(0o700)
      expect(statSync(first.clusterDir).uid).toBe(isRoot ? postgresUid() : process.getuid!())
      expect(mode(join(dataDir, 'postgres-credentials.json'))).toBe(0o600)

      const password = new URL(first.url).password
      expect(password).toMatch(/^[A-Za-z0-9_-]{24,}$/)
      expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres\?sslmode=disable$/)

      expect(await setting(first.url, 'server_encoding')).toBe('UTF8')
      expect(await setting(first.url, 'listen_addresses')).toBe('127.0.0.1')
      expect(await setting(first.url, 'unix_socket_directories')).toBe('')
      expect(await setting(first.url, 'fsync')).toBe('on')
      // Its own process group: a Ctrl-C to the service's group does not reach it.
      const pid = postmasterPid(first.clusterDir)
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]).toBe(String(pid))
      await withSql(first.url, (sql) => sql`create table kept (v text); insert into kept values ('grüße ✓')`.simple())

      // A second start while the first server runs must not take it over.
      await expect(startEmbeddedPostgres({ dataDir, persistent: true, logger })).rejects.toThrow(/in use by process/)
      // The db:* commands attach to it instead; their stop() leaves it to its owner.
      const attached = await startEmbeddedPostgres({ dataDir, persistent: true, attach: true, logger })
      expect(attached.url).toBe(first.url)
      expect(attached.clusterDir).toBe(first.clusterDir)
      await attached.stop()
      expect(isRunning(pid)).toBe(true)
      expect(await withSql(first.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe('grüße ✓')
      expect(text()).toContain('attached to the running embedded PostgreSQL')

      await first.stop()
      await first.stop()
      const second = await start({ dataDir, persistent: true, logger })
      expect(second.url).toBe(first.url)
      // Each start begins a new server log, and keeps the one before it.
      expect(readFileSync(join(second.clusterDir, 'server.log.1'), 'utf8')).toContain('database system is shut down')
      expect(readFileSync(join(second.clusterDir, 'server.log'), 'utf8')).toContain('database system is ready')
      expect(await withSql(second.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe('grüße ✓')
      await second.stop()

      // A server that dies during start (here: its port is taken) rejects with its last log lines.
      const { port } = new URL(first.url)
      const squatter = Bun.listen({ hostname: '127.0.0.1', port: Number(port), socket: { data() {} } })
      try {
        await expect(startEmbeddedPostgres({ dataDir, persistent: true, logger })).rejects.toThrow(
          /did not start[\s\S]*could not bind/,
        )
      } finally {
        squatter.stop(true)
      }

      expect(text()).toContain('"created":true')
      expect(text()).toContain('"created":false')
      expect(text()).not.toContain(password)
    } finally {
      Object.assign(process.env, saved)
    }
  },
  TIMEOUT,
)

test(
  'a throwaway cluster runs without fsync and stop() removes its files',
  async () => {
    const dataDir = join(tempFolder(), '.data')
    const { logger } = recordingLogger()
    const server = await start({ dataDir, persistent: false, logger })
    expect(existsSync(join(server.clusterDir, 'PG_VERSION'))).toBe(true)
    // A 0700 folder: as root, the postgres user cannot enter it, so the cluster lives under /var/tmp.
    expect(server.clusterDir.startsWith(isRoot ? RELOCATED : realpathSync(dataDir))).toBe(true)
    expect(await setting(server.url, 'fsync')).toBe('off')
    expect(await setting(server.url, 'server_encoding')).toBe('UTF8')

    await server.stop()
    expect(existsSync(dirname(server.clusterDir))).toBe(false)
    expect(readdirSync(dataDir)).toEqual([])
  },
  TIMEOUT,
)
