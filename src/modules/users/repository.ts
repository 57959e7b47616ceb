// SQL for users. Every read of a user carries its items (one statement, one snapshot), as the
// tutorial's User schema does. `hashed_password` is written here and never selected for a response.
import type { Database, Queryable } from '../../db/database'
import { rethrowConstraint } from '../../db/errors'
import type { Page } from '../../paging'
import { type ItemJson, itemColumns, toItem } from '../items/repository'
import { emailTaken } from './errors'
import type { User } from './model'

/** A user as `userColumns` selects it: bigint as text, timestamptz as a Date, its items as JSON. */
interface UserRow {
  id: string
  email: string
  is_active: boolean
  created_at: Date
  items: ItemJson[]
}

export interface NewUser {
  email: string
  hashed_password: string
}

export interface UserChanges {
  email?: string
  hashed_password?: string
  is_active?: boolean
}

const toUser = (row: UserRow): User => ({
  id: Number(row.id),
  email: row.email,
  is_active: row.is_active,
  created_at: row.created_at.toISOString(),
  items: row.items.map(toItem),
})

/** The public columns of `u`, and its items (each as an item's columns) as a JSON array ordered by id. */
const userColumns = (sql: Queryable) => sql`
  u.id, u.email, u.is_active, u.created_at,
  coalesce(
    (select json_agg(i order by i.id) from (select ${itemColumns(sql)} from items where owner_id = u.id) i),
    '[]'::json
  ) as items
`

const uniqueEmail = rethrowConstraint({ users_email_lower_key: emailTaken })

export type UsersRepository = ReturnType<typeof createUsersRepository>

export function createUsersRepository(db: Database) {
  return {
    async listUsers(page: Page): Promise<User[]> {
      const rows = await db.query(
        (sql) => sql<UserRow[]>`
        select ${userColumns(sql)} from users u order by u.id offset ${page.offset} limit ${page.limit}
      `,
      )
      return rows.map(toUser)
    },

    async getUser(id: string): Promise<User | undefined> {
      const [row] = await db.query((sql) => sql<[UserRow?]>`select ${userColumns(sql)} from users u where u.id = ${id}`)
      return row && toUser(row)
    },

    /** A duplicate email (in any case) is caught by the unique index: one statement, no race. */
    async createUser(user: NewUser): Promise<User> {
      const [row] = await db
        .query(
          (sql) => sql<[UserRow]>`
          insert into users (email, hashed_password) values (${user.email}, ${user.hashed_password})
          returning id, email, is_active, created_at, '[]'::json as items
        `,
        )
        .catch(uniqueEmail)
      return toUser(row)
    },

    async updateUser(id: string, changes: UserChanges): Promise<User | undefined> {
      const columns = (['email', 'hashed_password', 'is_active'] as const).filter(
        (column) => changes[column] !== undefined,
      )
      if (columns.length === 0) return this.getUser(id)
      const [row] = await db
        .query(
          (sql) => sql<[UserRow?]>`
          with u as (
            update users set ${sql(changes, columns)} where id = ${id}
            returning id, email, is_active, created_at
          )
          select ${userColumns(sql)} from u
        `,
        )
        .catch(uniqueEmail)
      return row && toUser(row)
    },

    /** Deletes the user and, by the foreign key's cascade, its items, in one statement. */
    async deleteUser(id: string): Promise<boolean> {
      const result = await db.query((sql) => sql`delete from users where id = ${id}`)
      return result.count > 0
    },
  }
}
