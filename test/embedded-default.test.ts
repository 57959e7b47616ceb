// `bun run start` with no DATABASE_URL on a fresh checkout: a real PostgreSQL from npm under
// ./.data, migrated, serving; Ctrl-C stops everything with exit 0, and the data is there on the
// next start. As root (CI, containers) and as an ordinary user.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chownSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { forEachLine } from '../src/lines'
import { PROJECT_DIR, serviceEnv, spawnService } from './support/service'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const isRoot = process.getuid?.() === 0
const folders: string[] = []
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

/** A fresh folder holding what a clone holds, plus node_modules (linked, or hard-linked for another user). */
function freshCheckout(owner?: { uid: number; gid: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fresh-checkout-'))
  folders.push(dir)
  for (const entry of ['src', 'db', 'package.json', 'tsconfig.json', 'bunfig.toml']) cpSync(join(PROJECT_DIR, entry), join(dir, entry), { recursive: true })
  if (owner) {
    // Another user may not be able to enter the real checkout: give it its own (hard-linked) copy.
    cpSync(join(PROJECT_DIR, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true })
    chownTree(dir, owner)
  } else symlinkSync(join(PROJECT_DIR, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

function chownTree(path: string, owner: { uid: number; gid: number }) {
  chownSync(path, owner.uid, owner.gid)
  if (statSync(path).isDirectory() && !path.endsWith('node_modules')) {
    for (const entry of readdirSync(path)) chownTree(join(path, entry), owner)
  }
}

const postgresProcessesFor = (dir: string) =>
  readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        return cmd.includes('postgres') && cmd.includes(dir) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
      } catch {
        return false
      }
    })

async function startStopRestart(dir: string, owner?: { uid: number; gid: number }) {
  const env = { HOME: dir, LANG: '', LC_ALL: 'C' }
  const start = () => spawnService({ command: ['bun', 'run', 'start'], cwd: dir, env, detached: true, ...owner })

  const first = await start()
  const email = `embedded-${crypto.randomUUID()}@example.com`
  const created = await fetch(`${first.url}/users/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery' }),
  })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: number }
  expect((await fetch(`${first.url}/users/${id}`)).status).toBe(200)
  expect((await fetch(`${first.url}/docs`)).status).toBe(200)
  const log = first.output.join('\n')
  expect(log).toContain('migrations applied')
  expect(log).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s]+@/)

  // Ctrl-C in a terminal signals the whole foreground group: the service must still drain and
  // stop its cluster itself.
  process.kill(-first.process.pid, 'SIGINT')
  expect(await first.exited).toBe(0)
  const clusterHome = existsSync(join(dir, '.data', 'cluster-location'))
    ? readFileSync(join(dir, '.data', 'cluster-location'), 'utf8').trim()
    : join(dir, '.data')
  if (clusterHome !== join(dir, '.data')) folders.push(clusterHome)
  await Bun.sleep(200)
  expect(postgresProcessesFor(clusterHome)).toEqual([])

  const credentials = readdirSync(join(dir, '.data')).find((name) => name.includes('credentials'))
  expect(credentials).toBeDefined()
  expect(statSync(join(dir, '.data', credentials!)).mode & 0o777).toBe(0o600)

  const second = await start()
  try {
    const read = await fetch(`${second.url}/users/${id}`)
    expect(read.status).toBe(200)
    expect(((await read.json()) as { email: string }).email).toBe(email)
    expect(second.output.join('\n')).toContain('up to date')
  } finally {
    process.kill(-second.process.pid, 'SIGTERM')
  }
  expect(await second.exited).toBe(0)
  await Bun.sleep(200)
  expect(postgresProcessesFor(clusterHome)).toEqual([])
}

describe('the embedded default', () => {
  test.skipIf(!isRoot && process.env.CI !== 'true')('works as root, in a folder the postgres user cannot enter', async () => {
    expect(isRoot).toBe(true)
    const dir = freshCheckout()
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    await startStopRestart(dir)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  test('works as an ordinary user', async () => {
    if (!isRoot) return startStopRestart(freshCheckout())
    const nobody = { uid: 65534, gid: 65534 }
    await startStopRestart(freshCheckout(nobody), nobody)
  })
})
describe('Ctrl-C while the embedded default is still starting', () => {
  // With debug logs the server's own first line shows it has been spawned (in its own process
  // group, so the Ctrl-C does not reach it) and is not ready yet.
  test('stops the server being started, exits 0, and leaves no PostgreSQL running', async () => {
    const dir = freshCheckout()
    const env = serviceEnv({ HOME: dir, LOG_LEVEL: 'debug' })
    const proc = Bun.spawn(['bun', 'run', 'start'], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe', detached: true })
    const lines: string[] = []
    let signalled = false
    await forEachLine(proc.stdout, (line) => {
      lines.push(line)
      if (!signalled && line.includes('starting PostgreSQL')) {
        signalled = true
        process.kill(-proc.pid, 'SIGINT')
      }
    })
    expect(signalled).toBe(true)
    expect(await proc.exited).toBe(0)
    expect(lines.some((line) => line.includes('listening url='))).toBe(false)
    const pointer = join(dir, '.data', 'cluster-location')
    const home = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : join(dir, '.data')
    if (home !== join(dir, '.data')) folders.push(home)
    await Bun.sleep(200)
    expect(postgresProcessesFor(home)).toEqual([])
  })
})

if (!isRoot && process.env.CI !== 'true') console.warn('skipping the embedded default as root: not running as root')
