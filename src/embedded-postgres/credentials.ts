// The port and password of a cluster: a fresh pair for a throwaway one, kept in the project's data
// folder for a persistent one.

import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join } from 'node:path'
import type { Logger } from '../logger'
import { createFileNoFollow } from './files'

const CREDENTIALS_FILE = 'postgres-credentials.json'

interface Credentials {
  port: number
  password: string
}

export async function persistentCredentials(project: string, clusterDir: string, logger: Logger): Promise<Credentials> {
  const file = join(project, CREDENTIALS_FILE)
  if (existsSync(file)) return readCredentials(file, logger)
  if (existsSync(join(clusterDir, 'PG_VERSION'))) {
    throw new Error(
      `the PostgreSQL cluster in ${clusterDir} exists but its credentials file ${file} is missing; restore the file, or delete the cluster to start over`,
    )
  }
  // Exclusive and never half-written: a start that loses the race reads the winner's.
  createFileNoFollow(file, `${JSON.stringify({ port: await freePort(), password: newPassword() })}\n`, 0o600)
  return readCredentials(file, logger)
}

function readCredentials(file: string, logger: Logger): Credentials {
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600)
    logger.warn('the PostgreSQL credentials file was readable by others; made it private', { file })
  }
  const { port, password } = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>
  if (!Number.isInteger(port) || typeof password !== 'string' || password.length < 24)
    throw new Error(`${file} is not a valid credentials file`)
  return { port: port as number, password }
}

/** 32 URL-safe characters: no escaping needed in the connection URL. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url')
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
