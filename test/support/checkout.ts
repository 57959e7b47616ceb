// Fresh copies of this project, as a new clone would be, and what tests look for in them.
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_DIR } from '../../src/db/migrations'

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
