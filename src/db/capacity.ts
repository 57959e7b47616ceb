// How many connections PostgreSQL lets ordinary roles have: every process's pool together
// (WORKERS x DATABASE_POOL_MAX) must fit, or the last ones in would be refused under load.
import type { Sql } from 'postgres'

export async function connectionCapacity(sql: Sql): Promise<{ max: number; reserved: number; available: number }> {
  const [row] = await sql<[{ max: number; reserved: number }]>`
    select current_setting('max_connections')::int as max,
           current_setting('superuser_reserved_connections')::int as reserved`
  return { max: row.max, reserved: row.reserved, available: row.max - row.reserved }
}
