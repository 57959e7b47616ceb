// The statements the service's repositories run for its GET routes (the caller's session check
// folded in), written out for the ceilings: the minimal handler serves them, and the database
// ceiling runs the first with no HTTP at all.
import type { Sql } from 'postgres'

const caller = (sql: Sql, sub: string, sid: string) => sql`
  select u.id as caller_id, u.is_superuser as caller_is_superuser from sessions s join users u on u.id = s.user_id
  where s.id = ${sid} and s.user_id = ${sub} and u.is_active and s.revoked_at is null and s.expires_at > now()`
const userColumns = (sql: Sql) => sql`u.id, u.email, u.is_active, u.is_superuser, u.full_name, u.created_at,
  u.items_count, coalesce((select json_agg(i order by i.id) from (select id, title, description, owner_id, created_at from items
    where owner_id between u.id and u.id order by owner_id, id limit 100) i), '[]'::json) as items`
const itemColumns = (sql: Sql) => sql`id, title, description, owner_id, created_at`

export const readUser = (sql: Sql, sub: string, sid: string, id: string) =>
  sql`with caller as (${caller(sql, sub, sid)}) select c.*, u.* from caller c left join lateral (
    select ${userColumns(sql)} from users u where u.id = ${id} and (c.caller_is_superuser or u.id = c.caller_id)) u on true`

export const readItem = (sql: Sql, sub: string, sid: string, id: string) =>
  sql`with caller as (${caller(sql, sub, sid)}) select c.*, i.* from caller c left join lateral (
    select ${itemColumns(sql)} from items i where i.id = ${id} and (c.caller_is_superuser or i.owner_id = c.caller_id)) i on true`

/** A page: by offset, or by cursor (`after`: the rows after this id). */
export interface Window {
  offset: string
  after: string | undefined
  limit: string
}

const cursor = (sql: Sql, column: string, w: Window) =>
  w.after === undefined ? sql`` : sql`and ${sql(column)} > ${w.after}`
const tail = (sql: Sql, columns: string | string[], w: Window) =>
  w.after === undefined
    ? sql`order by ${sql(columns)} offset ${w.offset} limit ${w.limit}`
    : sql`order by ${sql(columns)} limit ${w.limit}`

/** Lists answer their total too (X-Total-Count), as the service's do. */
export const listUsers = (sql: Sql, sub: string, sid: string, w: Window) =>
  sql`with caller as (${caller(sql, sub, sid)}) select c.*,
    case when c.caller_is_superuser then (select sum(count) from row_counts where table_name = 'users') end as total, u.*
    from caller c left join lateral (
      select ${userColumns(sql)} from users u where c.caller_is_superuser ${cursor(sql, 'u.id', w)} ${tail(sql, 'u.id', w)}) u on true`

export const listItems = (sql: Sql, sub: string, sid: string, w: Window) =>
  sql`with caller as (${caller(sql, sub, sid)}) select c.*,
    case when c.caller_is_superuser then (select sum(count) from row_counts where table_name = 'items')
         else (select items_count from users where id = c.caller_id) end as total, i.*
    from caller c left join lateral (
      (select ${itemColumns(sql)} from items where c.caller_is_superuser ${cursor(sql, 'id', w)} ${tail(sql, 'id', w)})
      union all
      (select ${itemColumns(sql)} from items
       where not c.caller_is_superuser and owner_id between c.caller_id and c.caller_id ${cursor(sql, 'id', w)}
       ${tail(sql, ['owner_id', 'id'], w)})
    ) i on true`
