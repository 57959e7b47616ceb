// Runs the real entry point (`bun src/index.ts`) as a child process, as an operator would.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { PROJECT_DIR } from '../../src/db/migrations'
import { createTokenService } from '../../src/security/tokens'
import { forEachLine } from './lines'

export { PROJECT_DIR }

export interface RunningService {
  url: string
  process: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  /** Everything the service printed so far, stdout and stderr, line by line. */
  output: string[]
  exited: Promise<number>
}

const settings = [...readFileSync(join(PROJECT_DIR, '.env.example'), 'utf8').matchAll(/^([A-Z_]+)=/gm)].map(
  (m) => m[1]!,
)

/** The key spawned services sign with (unless a test sets SECRET_KEY itself), so tests can make tokens. */
export const SERVICE_SECRET_KEY = 'test-only-service-key-0123456789abcdef'

/**
 * An access token the spawned services accept, for a session that exists nowhere (so a request the
 * database answers is a 401): for what happens before and around the database, not for access.
 */
export async function serviceToken(): Promise<string> {
  const tokens = createTokenService(loadConfig({ SECRET_KEY: SERVICE_SECRET_KEY }).auth)
  return (await tokens.issue({ userId: '1', sessionId: crypto.randomUUID() })).token
}

/**
 * The environment a fresh shell would give the service: every setting empty (its default), so
 * neither the test run's variables nor a developer's `.env` (Bun loads it, but never over a
 * variable that is set) change what is being tested; SECRET_KEY is SERVICE_SECRET_KEY.
 */
export function serviceEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && key !== 'TEST_DATABASE_URL') base[key] = value
  for (const name of settings) base[name] = ''
  return { ...base, PORT: '0', SECRET_KEY: SERVICE_SECRET_KEY, ...env }
}

function collect(stream: ReadableStream<Uint8Array>, into: string[], onLine: () => void) {
  void forEachLine(stream, (line) => {
    into.push(line)
    onLine()
  }).then(onLine)
}

export interface SpawnOptions {
  env: Record<string, string>
  /** Default: `bun <project>/src/index.ts`. */
  command?: string[]
  cwd?: string
  /** Its own process group, so a test can signal the group as a terminal's Ctrl-C does. */
  detached?: boolean
  uid?: number
  gid?: number
  timeoutMs?: number
}

/** Starts the service and resolves once it logs where it listens (or rejects with its output if it exits). */
export function spawnService(options: SpawnOptions): Promise<RunningService> {
  const proc = Bun.spawn(options.command ?? ['bun', join(PROJECT_DIR, 'src', 'index.ts')], {
    cwd: options.cwd ?? PROJECT_DIR,
    env: serviceEnv(options.env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    detached: options.detached,
    ...(options.uid !== undefined && { uid: options.uid, gid: options.gid }),
  })
  const output: string[] = []
  return new Promise((resolve, reject) => {
    let done = false
    const timer = setTimeout(
      () => finish(new Error(`the service did not start in time:\n${output.join('\n')}`)),
      options.timeoutMs ?? 60_000,
    )
    const finish = (error?: Error, url?: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (error) {
        proc.kill('SIGKILL')
        reject(error)
      } else resolve({ url: url!, process: proc, output, exited: proc.exited })
    }
    const check = () => {
      const line = output.find((l) => l.includes('listening'))
      const match = line?.match(/(http:\/\/[^\s"]+)/)
      if (match) finish(undefined, match[1]!)
    }
    collect(proc.stdout, output, check)
    collect(proc.stderr, output, check)
    proc.exited.then((code) =>
      finish(new Error(`the service exited with ${code} before listening:\n${output.join('\n')}`)),
    )
  })
}

export interface ServiceAccount {
  id: number
  email: string
  password: string
  token: string
}

/** Signs up a new account on a running service and logs it in, as a client would; throws if either fails. */
export async function signUpOn(
  url: string,
  tag: string,
  password = `${tag}-${crypto.randomUUID()}`,
): Promise<ServiceAccount> {
  const email = `${tag}-${crypto.randomUUID()}@example.com`
  const signup = await fetch(`${url}/users/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  if (signup.status !== 201) throw new Error(`sign-up answered ${signup.status}: ${await signup.text()}`)
  const { id } = (await signup.json()) as { id: number }
  const login = await fetch(`${url}/login/access-token`, {
    method: 'POST',
    body: new URLSearchParams({ username: email, password }),
  })
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`)
  const { access_token: token } = (await login.json()) as { access_token: string }
  return { id, email, password, token }
}

/** Runs a command to completion, as from a fresh shell (see serviceEnv): its exit code and everything it printed. */
export async function runToExit(
  command: string[],
  options: { env: Record<string, string>; cwd?: string; timeoutMs?: number },
): Promise<{ exitCode: number; output: string }> {
  const proc = Bun.spawn(command, {
    cwd: options.cwd ?? PROJECT_DIR,
    env: serviceEnv(options.env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  clearTimeout(timer)
  return { exitCode, output: stdout + stderr }
}

/** Runs the entry point to completion (for start-up failures). */
export const runServiceToExit = (env: Record<string, string>) =>
  runToExit(['bun', join(PROJECT_DIR, 'src', 'index.ts')], { env })

/** Sends bytes as they are (no client fixes up the Host header) and returns the raw response. */
export async function rawHttp(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  const chunks: Buffer[] = []
  const closed = Promise.withResolvers<void>()
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_socket, data) => void chunks.push(Buffer.from(data)),
      close: () => closed.resolve(),
      error: () => closed.resolve(),
    },
  })
  socket.write(request)
  await Promise.race([closed.promise, Bun.sleep(5000)])
  socket.end()
  return Buffer.concat(chunks).toString()
}
