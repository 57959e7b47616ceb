// SQL for items. Rows become API objects here: bigint ids to numbers, timestamps to ISO strings.
import type { Database, Queryable } from '../../db/database'
import { rethrowConstraint } from '../../db/errors'
import type { Page } from '../../paging'
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

export type ItemsRepository = ReturnType<typeof createItemsRepository>

export function createItemsRepository(db: Database) {
  return {
    async listItems(page: Page): Promise<Item[]> {
      const rows = await db.query(
        (sql) => sql<ItemRow[]>`
          select ${itemColumns(sql)} from items order by id offset ${page.offset} limit ${page.limit}
        `,
      )
      return rows.map(toItem)
    },

    async getItem(id: string): Promise<Item | undefined> {
      const [row] = await db.query((sql) => sql<[ItemRow?]>`select ${itemColumns(sql)} from items where id = ${id}`)
      return row && toItem(row)
    },

    /** One statement: a missing owner is the foreign key's 404, not a check that could race a delete. */
    async createItem(ownerId: string, input: ItemCreate): Promise<Item> {
      const [row] = await db
        .query(
          (sql) => sql<[ItemRow]>`
            insert into items (title, description, owner_id)
            values (${input.title}, ${input.description ?? null}, ${ownerId})
            returning ${itemColumns(sql)}
          `,
        )
        .catch(rethrowConstraint({ items_owner_id_fkey: userNotFound }))
      return toItem(row)
    },

    async updateItem(id: string, changes: ItemUpdate): Promise<Item | undefined> {
      const columns = (['title', 'description'] as const).filter((column) => changes[column] !== undefined)
      if (columns.length === 0) return this.getItem(id)
      const [row] = await db.query(
        (sql) => sql<[ItemRow?]>`
          update items set ${sql(changes, columns)} where id = ${id} returning ${itemColumns(sql)}
        `,
      )
      return row && toItem(row)
    },

    async deleteItem(id: string): Promise<boolean> {
      const result = await db.query((sql) => sql`delete from items where id = ${id}`)
      return result.count > 0
    },
  }
}
