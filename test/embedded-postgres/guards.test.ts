// What keeps a cluster safe: one process at a time runs it, even when two start at once; a server that
// dies under a running service is reported; a folder pg_ctl cannot quote is refused before initdb.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CHECKOUT_ENTRIES, clusterHome, copyCheckout } from '../support/checkout'
import { forEachLine } from '../support/lines'
import { isRunning } from '../support/processes'
import { PROJECT_DIR } from '../support/service'
import { waitFor } from '../support/wait'
import { clusterKit, postmasterPid, RELOCATED, recordingLogger, setting, TIMEOUT } from './support'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const { tempFolder, start, track } = clusterKit()

/** A process that starts the persistent cluster of `dataDir`, says how it went, and stops it when told to. */
function starter(script: string, dataDir: string, attach: boolean) {
  const proc = Bun.spawn({
    cmd: [process.execPath, script, dataDir, String(attach)],
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const said = Promise.withResolvers<{ url?: string; clusterDir?: string; error?: string }>()
  void forEachLine(proc.stdout, (line) => said.resolve(JSON.parse(line)))
  return { proc, said: said.promise, stop: () => proc.stdin.end() }
}

test(
  'two processes starting one persistent cluster at once: one runs it; the other is refused, or attaches to it',
  async () => {
    const folder = tempFolder(0o755)
    const script = join(folder, 'start.ts')
    writeFileSync(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(join(PROJECT_DIR, 'src', 'embedded-postgres', 'index.ts'))}
const quiet = () => {}
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet }
try {
  const cluster = await startEmbeddedPostgres({ dataDir: process.argv[2]!, persistent: true, attach: process.argv[3] === 'true', logger })
  console.log(JSON.stringify({ url: cluster.url, clusterDir: cluster.clusterDir }))
  for await (const _ of Bun.stdin.stream()) {}
  await cluster.stop()
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }))
}
`,
    )
    // A new cluster each time: initdb makes the window in which both could claim it as wide as it gets.
    const both = [
      starter(script, join(folder, 'a', '.data'), false),
      starter(script, join(folder, 'a', '.data'), false),
    ]
    const answers = await Promise.all(both.map((s) => s.said))
    const winner = answers.findIndex((answer) => answer.url)
    expect(answers.filter((answer) => answer.url)).toHaveLength(1)
    expect(answers[1 - winner]!.error).toMatch(/in use by process \d+/)
    // The winner's server was left alone by the loser's failed start.
    expect(await setting(answers[winner]!.url!, 'server_encoding')).toBe('UTF8')
    for (const s of both) s.stop()
    expect(await Promise.all(both.map((s) => s.proc.exited))).toEqual([0, 0])

    // A db:* command run while the service is still starting the cluster attaches to it, and waits.
    const service = starter(script, join(folder, 'b', '.data'), false)
    await waitFor('the service to claim the cluster', () =>
      existsSync(join(clusterHome(join(folder, 'b')), 'postgres.owner')),
    )
    const command = starter(script, join(folder, 'b', '.data'), true)
    const [owner, attached] = await Promise.all([service.said, command.said])
    expect(attached).toEqual(owner)
    command.stop()
    expect(await command.proc.exited).toBe(0)
    const pid = postmasterPid(owner.clusterDir!)
    expect(isRunning(pid)).toBe(true)
    service.stop()
    expect(await service.proc.exited).toBe(0)
    expect(isRunning(pid)).toBe(false)
    // Relocated homes (as root, from a checkout the postgres user cannot enter) outlive their projects.
    for (const { clusterDir } of [answers[winner]!, owner])
      if (clusterDir!.startsWith(RELOCATED)) track(dirname(clusterDir!))
  },
  TIMEOUT,
)

test(
  'a server that dies under its owner is reported, with its last log lines',
  async () => {
    const { logger, text } = recordingLogger()
    const server = await start({ dataDir: join(tempFolder(), '.data'), persistent: false, logger })
    process.kill(postmasterPid(server.clusterDir), 'SIGKILL')
    await waitFor('the death to be reported', () => text().includes('embedded PostgreSQL exited unexpectedly'))
    expect(text()).toMatch(
      /^error embedded PostgreSQL exited unexpectedly .*database system is ready to accept connections/m,
    )
    await server.stop()
  },
  TIMEOUT,
)

test(
  'a data folder whose path pg_ctl cannot quote is refused clearly, before initdb',
  async () => {
    // A copy the postgres OS user can enter, so that even as root the cluster is not relocated under /var/tmp.
    const project = join(tempFolder(0o755), 'project')
    copyCheckout(project, { entries: CHECKOUT_ENTRIES, ownModules: true })
    const dataDir = join(project, 'costs $5', '.data')
    const run = Bun.spawnSync({
      cmd: [
        process.execPath,
        '-e',
        `import { startEmbeddedPostgres } from './src/embedded-postgres'
const quiet = () => {}
await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: true, logger: { debug: quiet, info: quiet, warn: quiet, error: quiet } })`,
      ],
      cwd: project,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stderr.toString()).toContain('pg_ctl cannot start a cluster whose path holds')
    // Nothing was made: no cluster, no credentials, no owner record left behind.
    expect(readdirSync(dataDir)).toEqual([])
  },
  TIMEOUT,
)
