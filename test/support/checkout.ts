// Fresh copies of this project, as a new clone would be, and what tests look for in them.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_DIR } from '../../src/db/migrations'
import { waitFor } from './wait'

/** What a clone holds that running the service (or `bun test`'s preload) needs. */
export const CHECKOUT_ENTRIES = ['src', 'db', 'package.json', 'tsconfig.json', 'bunfig.toml']

/**
 * Copies the project's `entries` into `dir`. node_modules is linked, or, for another user who may
 * not be able to enter this checkout (CI clones into a 0700 folder), given as a hard-linked copy
 * (a real copy across filesystems).
 */
export function copyCheckout(dir: string, { entries = CHECKOUT_ENTRIES, ownModules = false } = {}): void {
  for (const entry of entries) cpSync(join(PROJECT_DIR, entry), join(dir, entry), { recursive: true })
  const modules = join(PROJECT_DIR, 'node_modules')
  if (!ownModules) {
    symlinkSync(modules, join(dir, 'node_modules'))
    return
  }
  if (!Bun.spawnSync(['cp', '-al', modules, join(dir, 'node_modules')]).success) {
    cpSync(modules, join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true })
  }
}

/** A new mkdtemp folder (0700) holding a copy of the project. */
export function freshCheckout(prefix = 'fresh-checkout-', options?: Parameters<typeof copyCheckout>[1]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  copyCheckout(dir, options)
  return dir
}

/** Where a checkout's embedded cluster lives: `.data`, or the relocated folder its pointer file names. */
export function clusterHome(dir: string): string {
  const pointer = join(dir, '.data', 'cluster-location')
  return existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : join(dir, '.data')
}

/** PIDs of live (not zombie) PostgreSQL processes whose command line names `home`. */
export function postgresProcessesFor(home: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        return (
          cmd.includes('postgres') && cmd.includes(home) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
        )
      } catch {
        return false
      }
    })
}

/** Resolves once no PostgreSQL process of `home` is left (a stopped server may take a moment to go). */
export async function noPostgresLeft(home: string): Promise<void> {
  await waitFor(`no PostgreSQL process left in ${home}`, () => postgresProcessesFor(home).length === 0, {
    timeoutMs: 5_000,
  })
}
