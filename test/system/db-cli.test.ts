// `bun run db:*` in a fresh checkout with no DATABASE_URL: next to a running service (in a second
// terminal) it uses the service's cluster and leaves it running; with the service stopped it starts
// the cluster for the command and stops it again; in production it never starts one. `db:new` needs no
// database at all.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATIONS_DIR } from '../../src/db/migrations'
import { clusterHome, freshCheckout } from '../support/checkout'
import { noPostgresLeft, postgresProcessesFor } from '../support/processes'
import { createScratchDatabase } from '../support/scratch'
import { type RunningService, runToExit, spawnService } from '../support/service'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql'))
const folders: string[] = []
const services: RunningService[] = []

afterAll(async () => {
  // A failed test may leave its service (and so its cluster) running: stop both before removing the files.
  for (const service of services) {
    if (service.process.exitCode !== null || service.process.signalCode !== null) continue
    process.kill(-service.process.pid, 'SIGTERM')
    await Promise.race([service.exited, Bun.sleep(20_000)])
  }
  for (const folder of [...folders]) {
    for (const pid of postgresProcessesFor(clusterHome(folder))) process.kill(Number(pid), 'SIGQUIT')
    // A relocated home (as root, the postgres user cannot enter a mkdtemp folder) outlives its project.
    if (clusterHome(folder) !== join(folder, '.data')) rmSync(clusterHome(folder), { recursive: true, force: true })
    rmSync(folder, { recursive: true, force: true })
  }
})

/** A fresh checkout, removed (with its cluster) after the file. */
function checkout(): string {
  const dir = freshCheckout('db-cli-')
  folders.push(dir)
  return dir
}

/** `bun run <script> [args]` in dir, as from a fresh shell. */
const bunRun = (dir: string, args: string[]) =>
  runToExit(['bun', 'run', ...args], { cwd: dir, env: { HOME: dir }, timeoutMs: 50_000 })

function expectAllApplied(output: string) {
  for (const file of MIGRATIONS) expect(output).toContain(`[X] ${file}`)
  expect(output).toContain(`Applied: ${MIGRATIONS.length}`)
  expect(output).toContain('Pending: 0')
}

describe('bun run db:* with the embedded PostgreSQL', () => {
  test('works next to the running service, and on its own once the service is stopped', async () => {
    const dir = checkout()
    const service = await spawnService({
      command: ['bun', 'run', 'start'],
      cwd: dir,
      env: { HOME: dir },
      detached: true,
    })
    services.push(service)
    const home = clusterHome(dir)
    const postmaster = postgresProcessesFor(home)
    expect(postmaster.length).toBeGreaterThan(0)

    const status = await bunRun(dir, ['db:status'])
    expect(status.output).not.toContain('in use by process')
    expect(status.exitCode).toBe(0)
    expectAllApplied(status.output)
    expect(status.output).toContain('attached to the running embedded PostgreSQL')
    const migrate = await bunRun(dir, ['db:migrate'])
    expect(migrate.exitCode).toBe(0)

    // The cluster is the service's: still running, and the service still uses it.
    expect(postgresProcessesFor(home)).toEqual(expect.arrayContaining(postmaster))
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200)

    process.kill(-service.process.pid, 'SIGTERM')
    expect(await service.exited).toBe(0)
    await noPostgresLeft(home)

    const alone = await bunRun(dir, ['db:status'])
    expect(alone.exitCode).toBe(0)
    expectAllApplied(alone.output)
    expect(alone.output).not.toContain('attached')
    await noPostgresLeft(home)
  })

  test('db:new creates a migration file from a name, and asks for one without it', async () => {
    const dir = checkout()
    const created = await bunRun(dir, ['db:new', 'add_something'])
    expect(created.exitCode).toBe(0)
    const added = readdirSync(join(dir, 'db', 'migrations')).filter((name) => !MIGRATIONS.includes(name))
    expect(added).toHaveLength(1)
    expect(added[0]).toMatch(/^\d{14}_add_something\.sql$/)
    const text = readFileSync(join(dir, 'db', 'migrations', added[0]!), 'utf8')
    expect(text).toContain('-- migrate:up')
    expect(text).toContain('-- migrate:down')

    const missing = await bunRun(dir, ['db:new'])
    expect(missing.exitCode).toBe(2)
    expect(missing.output).toContain('usage: bun run db:new <name>')
    expect(readdirSync(join(dir, 'db', 'migrations'))).toHaveLength(MIGRATIONS.length + 1)
    // No database was needed: no cluster was created.
    expect(existsSync(join(dir, '.data', 'postgres-credentials.json'))).toBe(false)
  })
})

describe('bun run db:* with NODE_ENV=production', () => {
  /** `bun run <script> [args]` in dir, in production, with these settings. */
  const productionRun = (dir: string, args: string[], env: Record<string, string> = {}) =>
    runToExit(['bun', 'run', ...args], {
      cwd: dir,
      env: { HOME: dir, NODE_ENV: 'production', ...env },
      timeoutMs: 50_000,
    })

  test('migrates through DATABASE_MIGRATION_URL alone; without any URL refuses, naming both, and starts no database', async () => {
    const dir = checkout()
    const scratch = await createScratchDatabase()
    try {
      const migrated = await productionRun(dir, ['db:migrate'], { DATABASE_MIGRATION_URL: scratch.url })
      expect(migrated.exitCode).toBe(0)
      const status = await productionRun(dir, ['db:status'], { DATABASE_MIGRATION_URL: scratch.url })
      expect(status.exitCode).toBe(0)
      expectAllApplied(status.output)
    } finally {
      await scratch.drop()
    }

    const refused = await productionRun(dir, ['db:status'])
    expect(refused.exitCode).toBe(1)
    expect(refused.output).toContain('DATABASE_MIGRATION_URL or DATABASE_URL must be set when NODE_ENV=production')
    expect(existsSync(join(dir, '.data'))).toBe(false)
    // db:new needs no database, in production as anywhere.
    expect((await productionRun(dir, ['db:new', 'in_production'])).exitCode).toBe(0)
  })
})
