// The seams the code relies on, checked from its own imports so that they stay where they are:
// - the embedded PostgreSQL is one module with one entry, which the entry points load only on demand
//   (no DATABASE_URL), so production never loads it;
// - the data side (database layer, gate, domain errors, repositories, password hasher) knows nothing of
//   HTTP: it imports nothing from the HTTP edge and holds no status numbers.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { Glob } from 'bun'

const ROOT = join(import.meta.dir, '..', '..')
const EMBEDDED = 'src/embedded-postgres/'
const EMBEDDED_ENTRY = `${EMBEDDED}index.ts`
const transpiler = new Bun.Transpiler({ loader: 'ts' })

interface Import {
  /** A project file relative to the root, or a package name. */
  target: string
  kind: string
}

interface SourceFile {
  path: string
  /** The code as it runs: types and comments gone. */
  code: string
  /** What it loads at run time (type-only imports are erased, so not listed). */
  imports: Import[]
  /** Every module it names in an import or export, types included. */
  names: string[]
}

/**
 * A specifier as a project file relative to the root, or as the package name it is; as written when it
 * resolves to nothing (an import inside a string: code a test generates).
 */
function targetOf(specifier: string, from: string): string {
  if (!specifier.startsWith('.')) return specifier
  try {
    return relative(ROOT, Bun.resolveSync(specifier, dirname(join(ROOT, from))))
  } catch {
    return specifier
  }
}

function sourceFiles(...patterns: string[]): SourceFile[] {
  const paths = patterns.flatMap((pattern) => [...new Glob(pattern).scanSync({ cwd: ROOT })]).sort()
  return paths.map((path) => {
    const text = readFileSync(join(ROOT, path), 'utf8')
    const imports = transpiler.scanImports(text).map(({ path: specifier, kind }) => ({
      target: targetOf(specifier, path),
      kind,
    }))
    const names = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)].map((m) =>
      targetOf(m[1]!, path),
    )
    return { path, code: transpiler.transformSync(text), imports, names }
  })
}

const everything = sourceFiles('src/**/*.ts', 'test/**/*.ts')
const inModule = (path: string) => path.startsWith(EMBEDDED)

describe('the embedded PostgreSQL module', () => {
  test('is imported only through its entry, src/embedded-postgres/index.ts', () => {
    const intoInside = everything
      .filter((file) => !inModule(file.path))
      .flatMap((file) =>
        file.imports
          .filter((i) => inModule(i.target) && i.target !== EMBEDDED_ENTRY)
          .map((i) => `${file.path} -> ${i.target}`),
      )
    expect(intoInside).toEqual([])
  })

  test('is loaded in src/ only by the entry points, and only on demand', () => {
    const loaders = everything
      .filter((file) => file.path.startsWith('src/') && !inModule(file.path))
      .flatMap((file) =>
        file.imports.filter((i) => i.target === EMBEDDED_ENTRY).map((i) => ({ file: file.path, kind: i.kind })),
      )
    expect(loaders).toEqual([
      { file: 'src/db/cli.ts', kind: 'dynamic-import' },
      { file: 'src/index.ts', kind: 'dynamic-import' },
    ])
  })

  test('needs nothing else from src/ at run time (its logger is a type)', () => {
    const outward = everything
      .filter((file) => inModule(file.path))
      .flatMap((file) =>
        file.imports
          .filter((i) => i.target.startsWith('src/') && !inModule(i.target))
          .map((i) => `${file.path} -> ${i.target}`),
      )
    expect(outward).toEqual([])
  })
})

describe('the data side', () => {
  const dataSide = sourceFiles(
    'src/db/**/*.ts',
    'src/gate.ts',
    'src/errors.ts',
    'src/paging.ts',
    'src/timing.ts',
    'src/security/**/*.ts',
    'src/modules/*/repository.ts',
    'src/modules/*/errors.ts',
  )
  const isHttp = (target: string) =>
    target.startsWith('src/http/') ||
    target.startsWith('src/docs/') ||
    target === 'elysia' ||
    target.startsWith('@elysiajs/')

  test('imports nothing from the HTTP edge, the docs or Elysia', () => {
    expect(dataSide.map((file) => file.path)).toEqual(
      expect.arrayContaining(['src/db/database.ts', 'src/gate.ts', 'src/errors.ts', 'src/modules/users/repository.ts']),
    )
    // Types included: the data side should not even speak of HTTP.
    const http = dataSide.flatMap((file) =>
      file.names.filter((name) => isHttp(name)).map((name) => `${file.path} -> ${name}`),
    )
    expect(http).toEqual([])
    // The walk sees such imports where they are: the app is built on the HTTP edge; and it sees type-only
    // ones (the client's configuration is a type, erased at run time).
    expect(sourceFiles('src/app.ts')[0]!.names).toContain('src/http/error-handler.ts')
    const client = sourceFiles('src/db/client.ts')[0]!
    expect(client.names).toContain('src/config.ts')
    expect(client.imports.map((i) => i.target)).not.toContain('src/config.ts')
  })

  test('holds no HTTP error status numbers', () => {
    const statusNumber = /(?<![\w.'"$])[45]\d\d(?![\w.])/g
    const found = dataSide.flatMap((file) => [...file.code.matchAll(statusNumber)].map((m) => `${file.path}: ${m[0]}`))
    expect(found).toEqual([])
    // The check finds them where they are, and is not fooled by SQLSTATEs or timeouts.
    expect("throw new HttpError(404, 'x'); const t = 5000; const s = '53300'".match(statusNumber)).toEqual(['404'])
  })
})
