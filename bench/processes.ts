// The processes a benchmark run starts (the service, the ceilings' servers), each on a free port of
// 127.0.0.1, waited for until it answers, and stopped by PID when the run ends.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..')

export interface Server {
  url: string
  /** The PIDs serving: one, or the service's workers too. */
  pids(): number[]
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Starts `command` with `env` on a free port, and resolves once `probe` answers 2xx. */
export async function startServer(command: string[], env: Record<string, string>, probe = '/livez'): Promise<Server> {
  const port = await freePort()
  const proc = Bun.spawn(command, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = performance.now() + 30_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${proc.exitCode}`)
    const answered = await fetch(url + probe).then(
      (response) => response.status < 500,
      () => false,
    )
    if (answered) break
    if (performance.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`${command.join(' ')} did not answer on ${url}`)
    }
    await Bun.sleep(50)
  }
  return {
    url,
    pids: () => [proc.pid, ...childrenOf(proc.pid)],
    async stop() {
      proc.kill('SIGTERM')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)])
      if (!exited) proc.kill('SIGKILL')
    },
  }
}

/** Child PIDs, from /proc (the service's workers). */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return text.split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Resident memory of a process, in MiB (0 if it is gone). */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return kib / 1024
  } catch {
    return 0
  }
}

/** Samples the peak RSS of `server`'s processes (the largest one) while `work` runs. */
export async function peakRss<T>(server: Server | undefined, work: Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = 0
  const sample = () => {
    for (const pid of server?.pids() ?? []) peak = Math.max(peak, rssMiB(pid))
  }
  const timer = setInterval(sample, 250)
  try {
    const value = await work
    sample()
    return { value, peakMiB: peak }
  } finally {
    clearInterval(timer)
  }
}
