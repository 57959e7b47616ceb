// How test/preload.ts treats its throwaway cluster when a test run is cut short: Ctrl-C stops it and
// removes its files; after a SIGKILL the next run does.
import { expect, setDefaultTimeout, test } from 'bun:test'
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CHECKOUT_ENTRIES, copyCheckout } from '../support/checkout'
import { isRunning, postmasters } from '../support/processes'
import { clusterKit, firstMatch, isRoot, mode, postmasterPid, TIMEOUT } from './support'

// Starting servers and clusters takes seconds on two cores.
setDefaultTimeout(60_000)

const { tempFolder } = clusterKit()

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
      const clusterDir = postmasters().find((entry) => entry.port === port)?.dir
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
    copyCheckout(project, {
      entries: [...CHECKOUT_ENTRIES, 'test/preload.ts', 'test/support/resilience-report.ts'],
      ownModules: true,
    })
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
      const clusterDir = postmasters().find((entry) => entry.port === port)?.dir
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
