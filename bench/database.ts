// The benchmark's database: a throwaway PostgreSQL from the embedded binaries (as the test preload
// starts one), migrated, and seeded in seconds with generate_series: 100,000 users and 300,000
// items, every user with the same precomputed argon2id hash, so that seeding hashes once.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { applyMigrations } from '../src/db/migrations'
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/embedded-postgres'
import { createLogger } from '../src/logger'

export const SEED = { users: 100_000, itemsPerUser: 3, password: 'bench password 123' } as const

export interface BenchDatabase {
  url: string
  cluster: EmbeddedPostgres
  stop(): Promise<void>
}

export async function startBenchDatabase(): Promise<BenchDatabase> {
  const logger = createLogger({ level: 'warn', json: false })
  const cluster = await startEmbeddedPostgres({
    dataDir: join(tmpdir(), `users-service-bench-${process.getuid?.() ?? 0}`),
    persistent: false,
    logger,
  })
  await applyMigrations(cluster.url)
  return { url: cluster.url, cluster, stop: () => cluster.stop() }
}

/** Seeds users (`user-<n>@bench.example`, the first a superuser) and their items; returns the shared hash and the time it took. */
export async function seed(url: string): Promise<{ hash: string; ms: number }> {
  const started = performance.now()
  const hash = await Bun.password.hash(SEED.password, { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql`
      insert into users (email, hashed_password, is_superuser, full_name)
      select 'user-' || g || '@bench.example', ${hash}, g = 1, 'Bench User ' || g
      from generate_series(1, ${SEED.users}) g`
    await sql`
      insert into items (title, description, owner_id)
      select 'Item ' || g, case when g % 2 = 0 then 'A bench item, number ' || g end, (g - 1) % ${SEED.users} + 1
      from generate_series(1, ${SEED.users * SEED.itemsPerUser}) g`
    await sql`analyze`
  } finally {
    await sql.end()
  }
  return { hash, ms: performance.now() - started }
}
