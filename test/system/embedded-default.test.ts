// `bun run start` with no DATABASE_URL on a fresh checkout: a real PostgreSQL from npm under
// ./.data, migrated, serving; Ctrl-C stops everything with exit 0, and the data is there on the
// next start. As root (CI, containers) and as an ordinary user.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chownSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { within } from '../../src/timing'
import { clusterHome, freshCheckout } from '../support/checkout'
import { forEachLine } from '../support/lines'
import { noPostgresLeft, postmasters } from '../support/processes'
import { type RunningService, serviceEnv, spawnService } from '../support/service'
import { waitFor } from '../support/wait'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const isRoot = process.getuid?.() === 0
const folders: string[] = []
// A test that fails half-way still stops what it started (each service stops its own cluster), before
// its folder goes.
const services = new Set<RunningService>()
afterAll(async () => {
  for (const service of services) {
    if (service.process.exitCode !== null) continue
    process.kill(-service.process.pid, 'SIGTERM')
    if (!(await within(service.exited, 10_000)).done) process.kill(-service.process.pid, 'SIGKILL')
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

/** A fresh checkout, removed after the file; another user gets its own node_modules and owns the rest. */
function checkout(owner?: { uid: number; gid: number }): string {
  const dir = freshCheckout('fresh-checkout-', { ownModules: owner !== undefined })
  folders.push(dir)
  if (owner) chownTree(dir, owner)
  return dir
}

/** Hands the checkout to `owner`, except node_modules' contents (hard links to this checkout's files). */
function chownTree(path: string, owner: { uid: number; gid: number }) {
  chownSync(path, owner.uid, owner.gid)
  if (statSync(path).isDirectory() && !path.endsWith('node_modules')) {
    for (const entry of readdirSync(path)) chownTree(join(path, entry), owner)
  }
}

/** The cluster's home, to be removed after the file too if it was relocated. */
function trackedHome(dir: string): string {
  const home = clusterHome(dir)
  if (home !== join(dir, '.data')) folders.push(home)
  return home
}

async function startStopRestart(dir: string, owner?: { uid: number; gid: number }) {
  // As on a fresh machine: no SECRET_KEY either, so tokens are signed with a key made at start.
  const env = { HOME: dir, LANG: '', LC_ALL: 'C', SECRET_KEY: '' }
  const start = async () => {
    const service = await spawnService({ command: ['bun', 'run', 'start'], cwd: dir, env, detached: true, ...owner })
    services.add(service)
    return service
  }

  const first = await start()
  const email = `embedded-${crypto.randomUUID()}@example.com`
  const created = await fetch(`${first.url}/users/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery' }),
  })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: number }
  /** Logs in at `url` and reads the account back. */
  const readBack = async (url: string) => {
    const login = await fetch(`${url}/login/access-token`, {
      method: 'POST',
      body: new URLSearchParams({ username: email, password: 'correct horse battery' }),
    })
    expect(login.status).toBe(200)
    const { access_token } = (await login.json()) as { access_token: string }
    return fetch(`${url}/users/${id}`, { headers: { authorization: `Bearer ${access_token}` } })
  }
  expect((await readBack(first.url)).status).toBe(200)
  expect((await fetch(`${first.url}/docs`)).status).toBe(200)
  const log = first.output.join('\n')
  expect(log).toContain('migrations applied')
  expect(log).toContain('SECRET_KEY is not set')
  expect(log).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s]+@/)

  // Ctrl-C in a terminal signals the whole foreground group: the service must still drain and
  // stop its cluster itself.
  process.kill(-first.process.pid, 'SIGINT')
  expect(await first.exited).toBe(0)
  const home = trackedHome(dir)
  await noPostgresLeft(home)

  const credentials = readdirSync(join(dir, '.data')).find((name) => name.includes('credentials'))
  expect(credentials).toBeDefined()
  expect(statSync(join(dir, '.data', credentials!)).mode & 0o777).toBe(0o600)

  const second = await start()
  try {
    const read = await readBack(second.url)
    expect(read.status).toBe(200)
    expect(((await read.json()) as { email: string }).email).toBe(email)
    expect(second.output.join('\n')).toContain('up to date')
  } finally {
    process.kill(-second.process.pid, 'SIGTERM')
  }
  expect(await second.exited).toBe(0)
  await noPostgresLeft(home)
}

describe('the embedded default', () => {
  test.skipIf(!isRoot && process.env.CI !== 'true')(
    'works as root, in a folder the postgres user cannot enter',
    async () => {
      expect(isRoot).toBe(true)
      const dir = checkout()
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      await startStopRestart(dir)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
    },
  )

  test('works as an ordinary user', async () => {
    if (!isRoot) return startStopRestart(checkout())
    const nobody = { uid: 65534, gid: 65534 }
    await startStopRestart(checkout(nobody), nobody)
  })
})

describe('Ctrl-C while the embedded default is still starting', () => {
  // The Ctrl-C goes to the whole group once PostgreSQL's server process exists but is not ready yet. The
  // server runs in a session of its own, so it does not get the signal: the service must stop it.
  test('stops the server being started, exits 0, and leaves no PostgreSQL running', async () => {
    const dir = checkout()
    const proc = Bun.spawn(['bun', 'run', 'start'], {
      cwd: dir,
      env: serviceEnv({ HOME: dir }),
      stdout: 'pipe',
      stderr: 'pipe',
      detached: true,
    })
    const lines: string[] = []
    const output = forEachLine(proc.stdout, (line) => lines.push(line))
    const spawned = () => postmasters().some((server) => server.dir === join(clusterHome(dir), 'postgres'))
    await waitFor('the PostgreSQL server to be spawned', spawned, { intervalMs: 2 })
    expect(lines.some((line) => line.includes('embedded PostgreSQL ready'))).toBe(false)
    process.kill(-proc.pid, 'SIGINT')

    expect(await proc.exited).toBe(0)
    await output
    expect(lines.some((line) => line.includes('embedded PostgreSQL ready'))).toBe(true)
    expect(lines.some((line) => line.includes('listening url='))).toBe(false)
    await noPostgresLeft(trackedHome(dir))
  })
})

if (!isRoot && process.env.CI !== 'true') console.warn('skipping the embedded default as root: not running as root')
