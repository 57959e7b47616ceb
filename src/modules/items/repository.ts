// SQL for items. Rows become API objects here: bigint ids to numbers, timestamps to ISO strings.

import type { PendingQuery, Row } from 'postgres'
import type { ItemsConfig } from '../../config'
import type { Database, Queryable } from '../../db/database'
import { afterCursor, listedFrom, pageWindow } from '../../db/pages'
import type { Listed, Page } from '../../paging'
import { requireSelfOrSuperuser } from '../../security/access'
import type { Caller } from '../../security/tokens'
import { type CallerColumns, callerScope, liveCallerOf } from '../sessions/repository'
import { userNotFound } from '../users/errors'
import { tooManyItems } from './errors'
import type { Item, ItemCreate, ItemUpdate } from './model'

/** An item's columns, as every read and `returning` of one lists them (users' items included). */
export const itemColumns = (sql: Queryable) => sql`id, title, description, owner_id, created_at`

/**
 * One owner's items, and their order: by id, as the (owner_id, id) index holds them, so that a page
 * of them is read from that index whatever the statistics say. Written as `owner_id = $1`, the
 * planner would take owner_id for a constant, drop it from the order, and could walk the primary
 * key instead, past every other owner's rows, when it believes one owner has most of them (measured:
 * 48 ms a read, against 0.1). A range of one value keeps the order the index's own.
 */
export const ownedBy = (sql: Queryable, owner: PendingQuery<Row[]>) => sql`owner_id between ${owner} and ${owner}`
const BY_OWNER = ['owner_id', 'id']

/** An item as postgres.js returns a row: bigint as text, timestamptz as a Date. */
interface ItemRow {
  id: string
  title: string
  description: string | null
  owner_id: string
  created_at: Date
}

/** An item inside aggregated JSON (a user's `items`): bigint as a number, timestamptz as text. */
export interface ItemJson {
  id: number
  title: string
  description: string | null
  owner_id: number
  created_at: string
}

export function toItem(row: ItemRow | ItemJson): Item {
  return {
    id: Number(row.id),
    title: row.title,
    description: row.description,
    owner_id: Number(row.owner_id),
    created_at: new Date(row.created_at).toISOString(),
  }
}

/** A statement's row: the caller, and the item it reached (absent: none, or not the caller's). */
type CallerItemRow = CallerColumns & (ItemRow | { [K in keyof ItemRow]: null })

/** The items `c` (the caller) may touch: its own, or every one for a superuser. */
const reachable = (sql: Queryable) => sql`(c.caller_is_superuser or i.owner_id = c.caller_id)`

function itemOf(rows: CallerItemRow[]): Item | undefined {
  liveCallerOf(rows)
  const row = rows[0]!
  return row.id === null ? undefined : toItem(row as ItemRow)
}

export type ItemsRepository = ReturnType<typeof createItemsRepository>

export function createItemsRepository(db: Database, limits: Pick<ItemsConfig, 'maxPerUser'>) {
  return {
    /** The same statements on `tx`, to compose them into one transaction with others. */
    on: (tx: Database) => createItemsRepository(tx, limits),

    /** The caller's items by id (a superuser's: all), with how many there are. */
    async listAs(caller: Caller, page: Page): Promise<Listed<Item>> {
      // Two branches, each with a plan of its own: an owner's items by the owner index, everyone's by id.
      const rows = await db.query(
        (sql) => sql<(CallerItemRow & { total: string })[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*,
            case when c.caller_is_superuser then (select sum(count) from row_counts where table_name = 'items')
                 else (select items_count from users where id = c.caller_id) end as total,
            i.*
          from caller c left join lateral (
            (select ${itemColumns(sql)} from items where c.caller_is_superuser ${afterCursor(sql, page, 'id')}
             ${pageWindow(sql, page, 'id')})
            union all
            (select ${itemColumns(sql)} from items
             where not c.caller_is_superuser and ${ownedBy(sql, sql`c.caller_id`)} ${afterCursor(sql, page, 'id')}
             ${pageWindow(sql, page, BY_OWNER)})
          ) i on true
        `,
      )
      liveCallerOf(rows)
      return listedFrom(rows, (row) => toItem(row as ItemRow))
    },

    async getAs(caller: Caller, id: string): Promise<Item | undefined> {
      const rows = await db.query(
        (sql) => sql<CallerItemRow[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*, i.* from caller c left join lateral (
            select ${itemColumns(sql)} from items i where i.id = ${id} and ${reachable(sql)}
          ) i on true
        `,
      )
      return itemOf(rows)
    },

    /**
     * One statement: the caller may add to its own items (a superuser: to anyone's) while the owner
     * has fewer than `maxPerUser`. The owner's row is locked first, so concurrent creates for one
     * owner take turns and the cap holds; an owner that does not exist, or whose deletion commits
     * meanwhile, is 404. Every answer is read from the locked row, never from an older snapshot.
     */
    async createAs(caller: Caller, ownerId: string, input: ItemCreate): Promise<Item> {
      const rows = await db.query(
        (sql) => sql<(CallerItemRow & { room: boolean | null })[]>`
          with caller as (${callerScope(sql, caller)}),
          owner as (
            select u.id, u.items_count < ${limits.maxPerUser} as room from users u, caller c
            where u.id = ${ownerId} and (c.caller_is_superuser or c.caller_id = u.id)
            for no key update of u
          ),
          created as (
            insert into items (title, description, owner_id)
            select ${input.title}, ${input.description ?? null}, id from owner where room
            returning ${itemColumns(sql)}
          )
          select c.*, (select room from owner) as room, i.* from caller c left join created i on true
        `,
      )
      const live = liveCallerOf(rows)
      requireSelfOrSuperuser(live, ownerId)
      const row = rows[0]!
      if (row.id !== null) return toItem(row as ItemRow)
      if (row.room === null) throw userNotFound()
      throw tooManyItems(limits.maxPerUser)
    },

    /** A user's items by id, with how many it has: for itself, or a superuser (anyone else: 403). */
    async listOwnedAs(caller: Caller, ownerId: string, page: Page): Promise<Listed<Item>> {
      const rows = await db.query(
        (sql) => sql<(CallerItemRow & { total: string | null })[]>`
          with caller as (${callerScope(sql, caller)}),
          owner as (
            select u.id, u.items_count from users u, caller c
            where u.id = ${ownerId} and (c.caller_is_superuser or c.caller_id = u.id)
          )
          select c.*, o.items_count as total, i.*
          from caller c left join owner o on true left join lateral (
            select ${itemColumns(sql)} from items where ${ownedBy(sql, sql`o.id`)} ${afterCursor(sql, page, 'id')}
            ${pageWindow(sql, page, BY_OWNER)}
          ) i on true
        `,
      )
      const live = liveCallerOf(rows)
      requireSelfOrSuperuser(live, ownerId)
      if (rows[0]!.total === null) throw userNotFound()
      return listedFrom(rows, (row) => toItem(row as ItemRow))
    },

    async updateAs(caller: Caller, id: string, changes: ItemUpdate): Promise<Item | undefined> {
      const columns = (['title', 'description'] as const).filter((column) => changes[column] !== undefined)
      if (columns.length === 0) return this.getAs(caller, id)
      const rows = await db.query(
        (sql) => sql<CallerItemRow[]>`
          with caller as (${callerScope(sql, caller)}),
          changed as (
            update items i set ${sql(changes, columns)} from caller c
            where i.id = ${id} and ${reachable(sql)}
            returning ${itemColumns(sql)}
          )
          select c.*, i.* from caller c left join changed i on true
        `,
      )
      return itemOf(rows)
    },

    /**
     * Locks the owner's row before the item's, the order a user's deletion takes them in (its row,
     * then its items by cascade), so the two cannot deadlock over the owner's `items_count`.
     */
    async deleteAs(caller: Caller, id: string): Promise<boolean> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { deleted: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          owner as (
            select u.id from users u
            where u.id = (select i.owner_id from items i, caller c where i.id = ${id} and ${reachable(sql)})
            for no key update
          ),
          deleted as (
            delete from items i using owner o where i.id = ${id} and i.owner_id = o.id
            returning i.id
          )
          select c.*, exists (select 1 from deleted) as deleted from caller c
        `,
      )
      liveCallerOf(rows)
      return rows[0]!.deleted
    },
  }
}
