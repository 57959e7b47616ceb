// As root: a project the postgres OS user cannot reach keeps its cluster under /var/tmp, which follows
// the project when it moves, outlives it for a grace period, and is never written through a planted symlink.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, lstatSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { isRunning } from '../support/processes'
import {
  clusterKit,
  DAY,
  GRACE,
  HOUR,
  isRoot,
  lastStarted,
  mode,
  postgresGid,
  postgresUid,
  postmasterPid,
  RELOCATED,
  recordingLogger,
  skipUnlessRoot,
  TIMEOUT,
  withSql,
} from './support'

if (skipUnlessRoot) console.warn('embedded-postgres tests: not running as root, so the relocation tests are skipped')

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const { tempFolder, start, track } = clusterKit()

test.skipIf(skipUnlessRoot)(
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
    track(moved)
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
    track(renamed)
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

test.skipIf(skipUnlessRoot)(
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
