// SQL for items. Rows become API objects here: bigint ids (strings from postgres.js) to numbers,
// timestamps to ISO strings.
import type { Database } from '../../db/database'
import { rethrowConstraint } from '../../db/errors'
import type { Page } from '../../http/schema'
import { userNotFound } from '../users/errors'
import type { Item, ItemCreate, ItemUpdate } from './model'

/** An item as a row, or as `json_build_object` writes it inside a user (numbers, text timestamps). */
export interface ItemRow {
  id: string | number
  title: string
  description: string | null
  owner_id: string | number
  created_at: Date | string
}

export function toItem(row: ItemRow): Item {
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
        select id, title, description, owner_id, created_at
        from items
        order by id
        offset ${page.offset} limit ${page.limit}
      `,
      )
      return rows.map(toItem)
    },

    async getItem(id: string): Promise<Item | undefined> {
      const [row] = await db.query(
        (sql) => sql<[ItemRow?]>`
        select id, title, description, owner_id, created_at from items where id = ${id}
      `,
      )
      return row && toItem(row)
    },

    /** One statement: a missing owner is the foreign key's 404, not a check that could race a delete. */
    async createItem(ownerId: string, input: ItemCreate): Promise<Item> {
      const [row] = await db
        .query(
          (sql) => sql<[ItemRow]>`
          insert into items (title, description, owner_id)
          values (${input.title}, ${input.description ?? null}, ${ownerId})
          returning id, title, description, owner_id, created_at
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
        update items set ${sql(changes, columns)}
        where id = ${id}
        returning id, title, description, owner_id, created_at
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
