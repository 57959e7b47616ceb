// What keeps a cluster safe: one process at a time runs it, even when two start at once or an owner died;
// a db:* command attaches to the service's cluster; a `bun --watch` reload takes it back; a server that dies
// under a running service is reported; a folder pg_ctl cannot quote is refused before initdb.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
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

/** A folder the postgres OS user can enter, with the starter script and a data folder for one cluster. */
function project() {
  const folder = tempFolder(0o755)
  return { script: starterScript(folder), dataDir: join(folder, 'project', '.data') }
}

const starterScript = (folder: string) => {
  const script = join(folder, 'start.ts')
  writeFileSync(
    script,
    `import { startEmbeddedPostgres } from ${JSON.stringify(join(PROJECT_DIR, 'src', 'embedded-postgres', 'index.ts'))}
const quiet = () => {}
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet }
try {
  const cluster = await startEmbeddedPostgres({ dataDir: process.argv[2]!, persistent: true, attach: process.argv[3] === 'true', logger })
  console.log(JSON.stringify({ url: cluster.url, clusterDir: cluster.clusterDir }))
  if (process.argv[4] === 'watch') setInterval(() => {}, 1 << 30)
  else {
    for await (const _ of Bun.stdin.stream()) {}
    await cluster.stop()
  }
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }))
}
`,
  )
  return script
}

interface Said {
  url?: string
  clusterDir?: string
  error?: string
}

/** A process that starts the persistent cluster of `dataDir`, says how it went, and stops it when told to. */
function starter(script: string, dataDir: string, attach: boolean) {
  const proc = Bun.spawn({
    cmd: [process.execPath, script, dataDir, String(attach)],
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const said = Promise.withResolvers<Said>()
  void forEachLine(proc.stdout, (line) => said.resolve(JSON.parse(line)))
  return { proc, said: said.promise, stop: () => proc.stdin.end() }
}

/** Start time of a live process, as /proc says: what an owner record holds beside the PID. */
const startTimeOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!
}

/** The home of a persistent cluster, made by one start and stop here (a relocated one is found through its pointer). */
async function existingHome(dataDir: string): Promise<string> {
  const cluster = await start({ dataDir, persistent: true, logger: recordingLogger().logger })
  await cluster.stop()
  const home = clusterHome(dirname(dataDir))
  if (home.startsWith(RELOCATED)) track(home)
  return home
}

/** Both said what they did, and the one that runs the cluster is stopped. */
async function finish(...starters: ReturnType<typeof starter>[]): Promise<Said[]> {
  const said = await Promise.all(starters.map((s) => s.said))
  for (const s of starters) s.stop()
  expect(await Promise.all(starters.map((s) => s.proc.exited))).toEqual(starters.map(() => 0))
  for (const { clusterDir } of said) if (clusterDir?.startsWith(RELOCATED)) track(dirname(clusterDir))
  return said
}

test(
  'two processes starting one new persistent cluster at once: one runs it, the other is refused',
  async () => {
    const { script, dataDir } = project()
    // Both claim it at the same moment: the claim decides, not who comes first.
    const both = [starter(script, dataDir, false), starter(script, dataDir, false)]
    const answers = await Promise.all(both.map((s) => s.said))
    const winner = answers.findIndex((answer) => answer.url)
    expect(answers.filter((answer) => answer.url)).toHaveLength(1)
    expect(answers[1 - winner]!.error).toMatch(/in use by process \d+/)
    // The winner's server was left alone by the loser's failed start.
    expect(await setting(answers[winner]!.url!, 'server_encoding')).toBe('UTF8')
    await finish(...both)
  },
  TIMEOUT,
)

test(
  'the record of an owner that died is replaced, by one of two processes racing for it',
  async () => {
    const { script, dataDir } = project()
    const home = await existingHome(dataDir)
    const dead = Bun.spawnSync(['true']).pid
    writeFileSync(join(home, 'postgres.owner'), `${dead} 1\n`)
    const both = [starter(script, dataDir, false), starter(script, dataDir, false)]
    const answers = await finish(...both)
    expect(answers.filter((answer) => answer.url)).toHaveLength(1)
    expect(answers.filter((answer) => answer.error)).toEqual([
      { error: expect.stringMatching(/in use by process \d+/) },
    ])
  },
  TIMEOUT,
)

test(
  'a db:* command run while the service is still starting the cluster attaches to it, and waits',
  async () => {
    const { script, dataDir } = project()
    const service = starter(script, dataDir, false)
    await waitFor('the service to claim the cluster', () =>
      existsSync(join(clusterHome(dirname(dataDir)), 'postgres.owner')),
    )
    const command = starter(script, dataDir, true)
    const [owner, attached] = await Promise.all([service.said, command.said])
    expect(attached).toEqual(owner)
    command.stop()
    expect(await command.proc.exited).toBe(0)
    const pid = postmasterPid(owner.clusterDir!)
    expect(isRunning(pid)).toBe(true)
    await finish(service)
    expect(isRunning(pid)).toBe(false)
  },
  TIMEOUT,
)

test(
  'a db:* command whose owner goes away before its server is ready runs the cluster itself',
  async () => {
    const { script, dataDir } = project()
    const home = await existingHome(dataDir)
    // An owner that never starts the server: a live process, recorded as the home's owner.
    const owner = Bun.spawn(['sleep', '60'])
    writeFileSync(join(home, 'postgres.owner'), `${owner.pid} ${startTimeOf(owner.pid)} planted\n`)
    const command = starter(script, dataDir, true)
    owner.kill()
    const [said] = await finish(command)
    expect(said).toEqual({ url: expect.stringMatching(/^postgres:/), clusterDir: join(home, 'postgres') })
  },
  TIMEOUT,
)

test(
  'after a `bun --watch` reload (same process, fresh program), the service takes its cluster back',
  async () => {
    const { script, dataDir } = project()
    const watched = Bun.spawn({
      cmd: [process.execPath, '--watch', script, dataDir, 'false', 'watch'],
      stdout: 'pipe',
      stderr: 'inherit',
    })
    const runs: Said[] = []
    void forEachLine(watched.stdout, (line) => runs.push(JSON.parse(line)))
    let servers: number[] = []
    try {
      await waitFor('the first run to start its cluster', () => runs.length === 1, { timeoutMs: 30_000 })
      const first = postmasterPid(runs[0]!.clusterDir!)
      servers.push(first)
      writeFileSync(script, `${readFileSync(script, 'utf8')}// reloaded\n`)
      await waitFor('the reloaded run to start it again', () => runs.length === 2, { timeoutMs: 30_000 })
      expect(runs[1]).toEqual(runs[0]!)
      const second = postmasterPid(runs[1]!.clusterDir!)
      servers.push(second)
      expect(second).not.toBe(first)
      expect(isRunning(first)).toBe(false)
      expect(await setting(runs[1]!.url!, 'server_encoding')).toBe('UTF8')
    } finally {
      watched.kill('SIGKILL')
      await watched.exited
      // Nothing stops a killed program's server: this test does.
      for (const pid of servers) if (isRunning(pid)) process.kill(pid, 'SIGINT')
      await waitFor('its servers to stop', () => servers.every((pid) => !isRunning(pid)))
      servers = []
      for (const { clusterDir } of runs) if (clusterDir?.startsWith(RELOCATED)) track(dirname(clusterDir))
    }
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
    expect(run.stderr.toString()).toContain('pg_ctl cannot start a server whose paths hold')
    // Nothing was made: no cluster, no credentials, no owner record left behind.
    expect(readdirSync(dataDir)).toEqual([])
  },
  TIMEOUT,
)
