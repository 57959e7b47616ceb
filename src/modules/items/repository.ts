// SQL for items. Rows become API objects here: bigint ids to numbers, timestamps to ISO strings.
import type { Database, Queryable } from '../../db/database'
import { rethrowConstraint } from '../../db/errors'
import { afterCursor, pageWindow } from '../../db/pages'
import type { Listed, Page } from '../../paging'
import { notEnoughPrivileges } from '../../security/access'
import type { Caller } from '../../security/tokens'
import { type CallerColumns, callerScope, liveCallerOf } from '../sessions/repository'
import { userNotFound } from '../users/errors'
import type { Item, ItemCreate, ItemUpdate } from './model'

/** An item's columns, as every read and `returning` of one lists them (users' items included). */
export const itemColumns = (sql: Queryable) => sql`id, title, description, owner_id, created_at`

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

export function createItemsRepository(db: Database) {
  return {
    /** The caller's items by id (a superuser's: all), with how many there are. */
    async listAs(caller: Caller, page: Page): Promise<Listed<Item>> {
      // Two branches, each with a plan of its own: an owner's items by the owner index, everyone's by id.
      const rows = await db.query(
        (sql) => sql<(CallerItemRow & { total: string })[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*,
            case when c.caller_is_superuser then (select sum(count) from row_counts where table_name = 'items')
                 else (select count(*) from items where owner_id = c.caller_id) end as total,
            i.*
          from caller c left join lateral (
            (select ${itemColumns(sql)} from items where c.caller_is_superuser ${afterCursor(sql, page, 'id')}
             ${pageWindow(sql, page, 'id')})
            union all
            (select ${itemColumns(sql)} from items
             where not c.caller_is_superuser and owner_id = c.caller_id ${afterCursor(sql, page, 'id')}
             ${pageWindow(sql, page, 'id')})
          ) i on true
        `,
      )
      liveCallerOf(rows)
      return {
        rows: rows.filter((row) => row.id !== null).map((row) => toItem(row as ItemRow)),
        total: Number(rows[0]!.total),
      }
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
     * One statement: the caller may add to its own items (a superuser: anyone's); a missing owner is
     * the foreign key's 404, not a check that could race a delete.
     */
    async createAs(caller: Caller, ownerId: string, input: ItemCreate): Promise<Item> {
      const rows = await db
        .query(
          (sql) => sql<CallerItemRow[]>`
            with caller as (${callerScope(sql, caller)}),
            created as (
              insert into items (title, description, owner_id)
              select ${input.title}, ${input.description ?? null}, ${ownerId} from caller c
              where c.caller_is_superuser or c.caller_id = ${ownerId}
              returning ${itemColumns(sql)}
            )
            select c.*, i.* from caller c left join created i on true
          `,
        )
        .catch(rethrowConstraint({ items_owner_id_fkey: userNotFound }))
      const live = liveCallerOf(rows)
      if (!live.isSuperuser && live.id !== ownerId) throw notEnoughPrivileges()
      return itemOf(rows)!
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

    async deleteAs(caller: Caller, id: string): Promise<boolean> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { deleted: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          deleted as (delete from items i using caller c where i.id = ${id} and ${reachable(sql)} returning i.id)
          select c.*, exists (select 1 from deleted) as deleted from caller c
        `,
      )
      liveCallerOf(rows)
      return rows[0]!.deleted
    },
  }
}
