// The postgres OS user (root only: PostgreSQL refuses to run as root).

import { join } from 'node:path'
import type { Logger } from '../logger'
import type { Native } from './native'
import { childEnv, type OsUser, runSync } from './programs'

const OS_USER = 'postgres'

export function ensureOsUser(logger: Logger): OsUser {
  const existing = lookupOsUser()
  if (existing) return existing
  // Another start may be creating it at the same moment: what counts is that it exists afterwards.
  try {
    if (!Bun.spawnSync(['getent', 'group', OS_USER]).success) runSync(['groupadd', '--system', OS_USER])
    runSync([
      'useradd',
      '--system',
      '-g',
      OS_USER,
      '-d',
      '/var/lib/postgresql',
      '-M',
      '-s',
      '/usr/sbin/nologin',
      OS_USER,
    ])
    logger.info('created the OS user postgres to run embedded PostgreSQL (it refuses to run as root)')
  } catch (error) {
    const created = lookupOsUser()
    if (created) return created
    throw error
  }
  const created = lookupOsUser()
  if (!created) throw new Error('the OS user postgres was created but cannot be looked up')
  return created
}

function lookupOsUser(): OsUser | undefined {
  const result = Bun.spawnSync(['getent', 'passwd', OS_USER])
  if (!result.success) return undefined
  const [, , uid, gid] = result.stdout.toString().trim().split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** Whether the postgres user can run the package's programs and enter dataDir where they are. */
export function canReach(user: OsUser, project: string, native: Native): boolean {
  const cmd = ['test', '-x', join(native.dir, 'bin', 'postgres'), '-a', '-x', project]
  return Bun.spawnSync({ cmd, env: childEnv(), uid: user.uid, gid: user.gid }).success
}
