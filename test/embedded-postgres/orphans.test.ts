// Servers orphaned by a `kill -9` of the process that started them are stopped at the next start, and a
// throwaway cluster's files are removed with it.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isRunning } from '../support/processes'
import { clusterKit, postmasterPid, recordingLogger, setting, TIMEOUT } from './support'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const { tempFolder, start } = clusterKit()

test(
  'servers orphaned by kill -9 of the process that started them are stopped at the next start',
  async () => {
    const folder = tempFolder(0o755)
    const dataDir = join(folder, '.data')
    const script = join(folder, 'start-and-hang.ts')
    writeFileSync(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(join(import.meta.dir, '../../src/embedded-postgres/index.ts'))}
const quiet = () => {}
const options = { dataDir: process.argv[2]!, logger: { debug: quiet, info: quiet, warn: quiet, error: quiet } }
const [kept, throwaway] = await Promise.all([true, false].map((persistent) => startEmbeddedPostgres({ ...options, persistent })))
console.log(JSON.stringify({ url: kept!.url, clusters: [kept!.clusterDir, throwaway!.clusterDir] }))
setInterval(() => {}, 1 << 30)
`,
    )
    const child = Bun.spawn({
      cmd: [process.execPath, script, dataDir],
      stdout: 'pipe',
      stderr: 'inherit',
      env: { ...process.env, LANG: '', LC_ALL: 'C' },
    })
    let orphans: number[] = []
    try {
      const { value } = await child.stdout.getReader().read()
      const started = JSON.parse(new TextDecoder().decode(value)) as { url: string; clusters: string[] }
      orphans = started.clusters.map(postmasterPid)

      child.kill('SIGKILL')
      await child.exited
      expect(orphans.map(isRunning)).toEqual([true, true])

      const { logger, text } = recordingLogger()
      const server = await start({ dataDir, persistent: true, logger })
      expect(text()).toContain('stopping a PostgreSQL server left running')
      expect(text()).toContain('removed a leftover embedded PostgreSQL cluster')
      expect(orphans.map(isRunning)).toEqual([false, false])
      expect(existsSync(started.clusters[1]!)).toBe(false)
      expect(server.url).toBe(started.url)
      expect(await setting(server.url, 'server_encoding')).toBe('UTF8')
      await server.stop()
    } finally {
      child.kill('SIGKILL')
      for (const pid of orphans) if (isRunning(pid)) process.kill(pid, 'SIGINT')
    }
  },
  TIMEOUT,
)
