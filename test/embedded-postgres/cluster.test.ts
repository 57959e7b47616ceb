// Starts real embedded PostgreSQL clusters in temporary folders; never touches a database it did not create.
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from '../../src/db/embedded'
import type { Logger } from '../../src/logger'
import { CHECKOUT_ENTRIES, copyCheckout } from '../support/checkout'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const isRoot = process.getuid?.() === 0
const RELOCATED = '/var/tmp/users-service-pg-'
const TIMEOUT = 30_000
const HOUR = 3_600_000
const DAY = 24 * HOUR
/** How long a relocated home whose project is gone is kept after its last start (homes.ts). */
const GRACE = 7 * DAY

if (!isRoot && process.env.CI !== 'true')
  console.warn('embedded-postgres tests: not running as root, so the relocation tests are skipped')

const servers: EmbeddedPostgres[] = []
const folders: string[] = []

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
  // Relocated homes of persistent clusters outlive stop(); their projects are gone now.
  for (const server of servers)
    if (server.clusterDir.startsWith(RELOCATED)) rmSync(dirname(server.clusterDir), { recursive: true, force: true })
})

/** A fresh folder; 0700 (mkdtemp's mode) is one the postgres OS user cannot enter. */
function tempFolder(mode = 0o700): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-pg-test-'))
  chmodSync(dir, mode)
  folders.push(dir)
  return dir
}

function recordingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = []
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`)
  }
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    text: () => lines.join('\n'),
  }
}

async function start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres(options)
  servers.push(server)
  return server
}

async function withSql<T>(url: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return await use(sql)
  } finally {
    await sql.end()
  }
}

async function setting(url: string, name: string): Promise<string> {
  return withSql(url, async (sql) => (await sql.unsafe(`show ${name}`))[0]?.[name] as string)
}

function mode(path: string): number {
  return statSync(path).mode & 0o777
}

function postgresUid(): number {
  return Number(Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString())
}

function postgresGid(): number {
  return Number(Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString())
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')
}

/** Sets when a home was last started (its home.json's mtime), `ago` ms before now. */
function lastStarted(home: string, ago: number): void {
  const then = new Date(Date.now() - ago)
  utimesSync(join(home, 'home.json'), then, then)
}

function postmasterPid(clusterDir: string): number {
  return Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0])
}

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
      if (home !== realpathSync(dataDir)) expect(isRoot && home.startsWith(RELOCATED)).toBe(true)
      expect(first.clusterDir).toBe(join(home, 'postgres'))
      expect(mode(first.clusterDir)).toBe(0o700)
      if (isRoot) expect(statSync(first.clusterDir).uid).toBe(postgresUid())
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
      expect(await withSql(second.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe('grüße ✓')
      await second.stop()

      // A server that dies during start (here: its port is taken) rejects with its last log lines.
      const { port } = new URL(first.url)
      const squatter = Bun.listen({ hostname: '127.0.0.1', port: Number(port), socket: { data() {} } })
      try {
        await expect(startEmbeddedPostgres({ dataDir, persistent: true, logger })).rejects.toThrow(
          /exited during start[^]*could not bind/,
        )
      } finally {
        squatter.stop(true)
      }

      expect(text()).toContain('"initialised":true')
      expect(text()).toContain('"initialised":false')
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
    if (isRoot) expect(server.clusterDir.startsWith(RELOCATED)).toBe(true)
    expect(await setting(server.url, 'fsync')).toBe('off')
    expect(await setting(server.url, 'server_encoding')).toBe('UTF8')

    await server.stop()
    expect(existsSync(dirname(server.clusterDir))).toBe(false)
    expect(readdirSync(dataDir)).toEqual([])
  },
  TIMEOUT,
)

test(
  'servers orphaned by kill -9 of the process that started them are stopped at the next start',
  async () => {
    const folder = tempFolder(0o755)
    const dataDir = join(folder, '.data')
    const script = join(folder, 'start-and-hang.ts')
    writeFileSync(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(join(import.meta.dir, '../../src/db/embedded/index.ts'))}
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

test.skipIf(!isRoot && process.env.CI !== 'true')(
  'as root, a data folder the postgres user cannot reach is relocated under /var/tmp, and removed once its project is gone and it went unused for 7 days',
  async () => {
    expect(isRoot).toBe(true)
    const project = tempFolder()
    const dataDir = join(project, '.data')
    const { logger, text } = recordingLogger()
    const first = await start({ dataDir, persistent: true, logger })
    const home = dirname(first.clusterDir)
    expect(home.startsWith(RELOCATED)).toBe(true)
    expect(readFileSync(join(dataDir, 'cluster-location'), 'utf8').trim()).toBe(home)
    expect(JSON.parse(readFileSync(join(home, 'home.json'), 'utf8')).project).toBe(realpathSync(dataDir))
    expect(existsSync(join(home, 'native', 'bin', 'postgres'))).toBe(true)
    for (const dir of [home, first.clusterDir]) {
      expect(statSync(dir).uid).toBe(postgresUid())
      expect(mode(dir)).toBe(0o700)
    }
    expect(mode(project)).toBe(0o700) // never loosened
    expect(text()).toContain(home)

    await withSql(first.url, (sql) => sql`create table kept (v int); insert into kept values (42)`.simple())
    await first.stop()

    // The project is moved: the pointer file moves with it, and the cluster follows.
    const moved = `${project}-moved`
    folders.push(moved)
    renameSync(project, moved)
    const second = await start({ dataDir: join(moved, '.data'), persistent: true, logger })
    expect(second.url).toBe(first.url)
    expect(second.clusterDir).toBe(first.clusterDir)
    expect(JSON.parse(readFileSync(join(home, 'home.json'), 'utf8')).project).toBe(realpathSync(join(moved, '.data')))
    expect(await withSql(second.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe(42)

    // The project is renamed while its service runs, and the home looks unused for long: its owner is
    // alive, so a start elsewhere leaves its server and its files alone.
    const running = postmasterPid(second.clusterDir)
    const renamed = `${project}-renamed`
    folders.push(renamed)
    renameSync(moved, renamed)
    lastStarted(home, 30 * DAY)
    const meanwhile = recordingLogger()
    await (await start({ dataDir: join(tempFolder(), '.data'), persistent: false, logger: meanwhile.logger })).stop()
    expect(meanwhile.text()).not.toContain(home)
    expect(isRunning(running)).toBe(true)
    expect(existsSync(join(second.clusterDir, 'PG_VERSION'))).toBe(true)
    expect(await withSql(second.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe(42)
    await second.stop()

    // The project is deleted: its home is kept (with a warning) until it has gone unused for 7 days...
    rmSync(renamed, { recursive: true, force: true })
    lastStarted(home, GRACE - HOUR)
    const recent = recordingLogger()
    await (await start({ dataDir: join(tempFolder(), '.data'), persistent: false, logger: recent.logger })).stop()
    expect(recent.text()).toMatch(new RegExp(`^warn .*no longer exists.*"location":"${home}"`, 'm'))
    expect(existsSync(join(first.clusterDir, 'PG_VERSION'))).toBe(true)

    // ...and then removed by the next start anywhere.
    lastStarted(home, GRACE + HOUR)
    const other = recordingLogger()
    const throwaway = await start({ dataDir: join(tempFolder(), '.data'), persistent: false, logger: other.logger })
    expect(other.text()).toContain(`removed a leftover embedded PostgreSQL cluster {"location":"${home}"`)
    expect(existsSync(home)).toBe(false)

    expect(throwaway.clusterDir.startsWith(RELOCATED)).toBe(true)
    await throwaway.stop()
    expect(existsSync(dirname(throwaway.clusterDir))).toBe(false)
  },
  TIMEOUT,
)

test.skipIf(!isRoot && process.env.CI !== 'true')(
  'as root, records in a home the postgres user owns are never written through a symlink it planted there',
  async () => {
    expect(isRoot).toBe(true)
    const dataDir = join(tempFolder(), '.data')
    const { logger } = recordingLogger()
    const first = await start({ dataDir, persistent: true, logger })
    const home = dirname(first.clusterDir)
    expect(home.startsWith(RELOCATED)).toBe(true)
    await withSql(first.url, (sql) => sql`create table kept (v int); insert into kept values (7)`.simple())
    await first.stop()

    // What a cluster superuser can do with COPY ... TO PROGRAM: the server runs as the postgres user, which owns the home.
    const outside = tempFolder()
    for (const name of ['home.json', 'postgres.owner']) {
      const victim = join(outside, name)
      writeFileSync(victim, 'precious\n', { mode: 0o600 })
      rmSync(join(home, name), { force: true })
      const planted = Bun.spawnSync({
        cmd: ['ln', '-s', victim, join(home, name)],
        uid: postgresUid(),
        gid: postgresGid(),
      })
      expect(planted.success).toBe(true)
      expect(lstatSync(join(home, name)).isSymbolicLink()).toBe(true)
    }

    const second = await start({ dataDir, persistent: true, logger })
    for (const name of ['home.json', 'postgres.owner']) {
      expect(readFileSync(join(outside, name), 'utf8')).toBe('precious\n')
      expect(lstatSync(join(home, name)).isFile()).toBe(true)
    }
    expect(JSON.parse(readFileSync(join(home, 'home.json'), 'utf8')).project).toBe(realpathSync(dataDir))
    expect(second.clusterDir).toBe(first.clusterDir)
    expect(await withSql(second.url, async (sql) => (await sql`select v from kept`)[0]?.v)).toBe(7)
    await second.stop()
  },
  TIMEOUT,
)

test(
  'a test run interrupted by Ctrl-C stops its throwaway cluster and removes its files (test/preload.ts)',
  async () => {
    const file = join(tempFolder(0o755), 'sleeps.test.ts')
    writeFileSync(
      file,
      `import { test } from 'bun:test'\ntest('sleeps', async () => {\n  console.log('DATABASE', process.env.TEST_DATABASE_URL)\n  await Bun.sleep(60_000)\n}, 120_000)\n`,
    )
    const env = { ...process.env }
    delete env.TEST_DATABASE_URL
    const run = Bun.spawn({
      cmd: [process.execPath, 'test', file],
      cwd: join(import.meta.dir, '..', '..'),
      env,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    let pid: number | undefined
    try {
      const printed = await firstMatch(run.stdout, /DATABASE (\S+)/)
      const port = new URL(printed).port
      // The run's postmaster: the one listening on the port its tests were given.
      const clusterDir = postgresDataDirs().find((entry) => entry.port === port)?.dir
      expect(clusterDir).toBeDefined()
      pid = postmasterPid(clusterDir!)

      run.kill('SIGINT')
      expect(await run.exited).toBe(130)
      expect(isRunning(pid)).toBe(false)
      expect(existsSync(dirname(clusterDir!))).toBe(false)
    } finally {
      run.kill('SIGKILL')
      // Should this fail, the next run's sweep removes the cluster's files; its server is stopped here.
      if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGINT')
    }
  },
  TIMEOUT,
)

test(
  'a test run killed with SIGKILL leaves a cluster behind that the next run stops and removes (test/preload.ts)',
  async () => {
    // As root, throwaway clusters live under /var/tmp, which every start sweeps; an ordinary user's stay in
    // the run's data folder, which only a start in that same folder sweeps. So the runs are made as one.
    const runner = isRoot ? { uid: 65534, gid: 65534 } : {}
    const folder = tempFolder(0o755)
    if (isRoot) chownSync(folder, 65534, 65534)
    const sleeps = join(folder, 'sleeps.test.ts')
    const passes = join(folder, 'passes.test.ts')
    writeFileSync(
      sleeps,
      `import { test } from 'bun:test'\ntest('sleeps', async () => {\n  console.log('DATABASE', process.env.TEST_DATABASE_URL)\n  await Bun.sleep(60_000)\n}, 120_000)\n`,
    )
    writeFileSync(passes, `import { test } from 'bun:test'\ntest('passes', () => {})\n`)
    const env: Record<string, string | undefined> = { ...process.env, TMPDIR: folder, HOME: folder }
    delete env.TEST_DATABASE_URL
    // The runs need the preload and what it imports, in a copy the other user can enter.
    const project = join(folder, 'project')
    copyCheckout(project, { entries: [...CHECKOUT_ENTRIES, 'test/preload.ts'], ownModules: true })
    const bunTest = (file: string) =>
      Bun.spawn({
        cmd: [process.execPath, 'test', file],
        cwd: project,
        env,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        ...runner,
      })

    const killed = bunTest(sleeps)
    let pid: number | undefined
    try {
      const port = new URL(await firstMatch(killed.stdout, /DATABASE (\S+)/)).port
      const clusterDir = postgresDataDirs().find((entry) => entry.port === port)?.dir
      expect(clusterDir).toBeDefined()
      pid = postmasterPid(clusterDir!)
      killed.kill('SIGKILL')
      await killed.exited
      expect(isRunning(pid)).toBe(true) // nothing stopped it

      const next = bunTest(passes)
      const [code, stdout, stderr] = await Promise.all([
        next.exited,
        new Response(next.stdout).text(),
        new Response(next.stderr).text(),
      ])
      expect({ code, output: stdout + stderr }).toMatchObject({ code: 0 })
      expect(isRunning(pid)).toBe(false)
      expect(existsSync(dirname(clusterDir!))).toBe(false)
      // The runs share one private data folder, left empty once the next run stopped its own cluster.
      const dataDir = dirname(dirname(clusterDir!))
      expect(dirname(dataDir)).toBe(folder)
      expect(mode(dataDir)).toBe(0o700)
      expect(readdirSync(dataDir)).toEqual([])
    } finally {
      killed.kill('SIGKILL')
      if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGINT')
    }
  },
  TIMEOUT,
)

/** The first capture of pattern in what the stream prints. */
async function firstMatch(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true })
    const match = text.match(pattern)
    if (match) return match[1]!
  }
  throw new Error(`the test run ended without printing ${pattern}:\n${text}`)
}

/** `-D` and `-p` of every postmaster running from a platform package's programs. */
function postgresDataDirs(): { dir: string; port: string }[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
        const value = (flag: string) => args[args.indexOf(flag) + 1]
        return args[0]?.endsWith('/bin/postgres') && args.includes('-D') && args.includes('-p')
          ? [{ dir: value('-D')!, port: value('-p')! }]
          : []
      } catch {
        return []
      }
    })
}
