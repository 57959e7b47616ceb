// What a test that holds a lock on a table (to keep the service's queries in flight) waits for.
import type { Sql } from 'postgres'

/** Whether a session holds `table` in ACCESS EXCLUSIVE mode, in the database `sql` is connected to. */
export async function exclusivelyLocked(sql: Sql, table: string): Promise<boolean> {
  const [{ held }] = await sql<[{ held: boolean }]>`
    select exists (
      select from pg_locks l join pg_class c on c.oid = l.relation
      where c.relname = ${table} and l.mode = 'AccessExclusiveLock' and l.granted
        and l.database = (select oid from pg_database where datname = current_database())
    ) as held`
  return held
}

/** How many of the service's queries wait for a lock, in the database `sql` is connected to. */
export async function serviceQueriesWaitingForLock(sql: Sql): Promise<number> {
  const [{ n }] = await sql<[{ n: number }]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and application_name = 'users-service' and wait_event_type = 'Lock'`
  return n
}
