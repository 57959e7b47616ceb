// SQL for users. Every read of a user carries its items (one statement, one snapshot), as the
// tutorial's User schema does. `hashed_password` is written here and read only to check a password,
// never for a response. Whatever a caller does runs in one statement that also checks the caller
// (`callerScope`): its session live, its user active, its role; what it may not touch it cannot see.
import type { ItemsConfig } from '../../config'
import type { Database, Queryable } from '../../db/database'
import { rethrowConstraint } from '../../db/errors'
import { afterCursor, listedFrom, pageWindow } from '../../db/pages'
import type { Listed, Page } from '../../paging'
import { type LiveCaller, requireSelfOrSuperuser, requireSuperuser } from '../../security/access'
import type { Caller } from '../../security/tokens'
import { type ItemJson, itemColumns, ownedBy, toItem } from '../items/repository'
import { type CallerColumns, callerScope, liveCallerOf } from '../sessions/repository'
import { cannotDeleteSelf, emailTaken, userNotFound } from './errors'
import type { User } from './model'

/** A user as `userColumns` selects it: bigint as text, timestamptz as a Date, its first items as JSON. */
interface UserRow {
  id: string
  email: string
  is_active: boolean
  is_superuser: boolean
  full_name: string | null
  created_at: Date
  items_count: string
  items: ItemJson[]
}

/** A statement's row: the caller, and the user it reached (absent: none, or not allowed). */
type CallerUserRow = CallerColumns & (UserRow | { [K in keyof UserRow]: null })

export interface NewUser {
  email: string
  hashed_password: string
  full_name?: string | null
  is_active?: boolean
  is_superuser?: boolean
}

export interface UserChanges {
  email?: string
  hashed_password?: string
  full_name?: string | null
  is_active?: boolean
  is_superuser?: boolean
}

export interface LoginCandidate {
  id: string
  hashed_password: string
  is_active: boolean
}

const toUser = (row: UserRow): User => ({
  id: Number(row.id),
  email: row.email,
  is_active: row.is_active,
  is_superuser: row.is_superuser,
  full_name: row.full_name,
  created_at: row.created_at.toISOString(),
  items_count: Number(row.items_count),
  items: row.items.map(toItem),
})

/** The public columns of a user, without its items: what `returning` lists. */
const ownColumns = (sql: Queryable) => sql`id, email, is_active, is_superuser, full_name, created_at, items_count`

/**
 * The public columns of `u`, and its first `embedMax` items (each as an item's columns) as a JSON
 * array ordered by id: a page read from the (owner_id, id) index, however many it owns (`ownedBy`).
 * The limit is written into the statement (a checked integer from the configuration): as a
 * parameter, PostgreSQL's generic plan for it read users 37% slower (bench/).
 */
const userColumns = (sql: Queryable, embedMax: number) => sql`
  u.id, u.email, u.is_active, u.is_superuser, u.full_name, u.created_at, u.items_count,
  coalesce(
    (select json_agg(i order by i.id) from (
      select ${itemColumns(sql)} from items where ${ownedBy(sql, sql`u.id`)} order by owner_id, id limit ${sql.unsafe(String(embedMax))}
    ) i),
    '[]'::json
  ) as items
`

const uniqueEmail = rethrowConstraint({ users_email_lower_key: emailTaken })

/** The caller a statement saw, and the user row it reached, if any. */
function split(rows: CallerUserRow[]): { caller: LiveCaller; user: User | undefined } {
  const caller = liveCallerOf(rows)
  const row = rows[0]!
  return { caller, user: row.id === null ? undefined : toUser(row as UserRow) }
}

const CHANGEABLE = ['email', 'hashed_password', 'full_name', 'is_active', 'is_superuser'] as const

/**
 * Ends a user's sessions (but `keep`), after its row was changed in the same transaction: a
 * statement of its own, so that it sees every session a login inserted before the change took the
 * user's row (sessions.start locks it).
 */
async function endSessions(tx: Database, userId: string, keep?: string): Promise<void> {
  await tx.query(
    (sql) => sql`
      update sessions set revoked_at = now()
      where user_id = ${userId} and revoked_at is null ${keep === undefined ? sql`` : sql`and id <> ${keep}`}
    `,
  )
}

export type UsersRepository = ReturnType<typeof createUsersRepository>

export function createUsersRepository(db: Database, limits: Pick<ItemsConfig, 'embedMax'>) {
  // Written into SQL as it is (userColumns): nothing but a whole number may get there.
  if (!Number.isSafeInteger(limits.embedMax) || limits.embedMax < 0) throw new RangeError('embedMax: a whole number')
  const publicColumns = (sql: Queryable) => userColumns(sql, limits.embedMax)

  return {
    /** The same statements on `tx`, to compose them into one transaction with others. */
    on: (tx: Database) => createUsersRepository(tx, limits),

    /** For a login: the account with this email (in any case), with its hash. */
    async findForLogin(email: string): Promise<LoginCandidate | undefined> {
      const [row] = await db.query(
        (sql) => sql<[LoginCandidate?]>`
          select id, hashed_password, is_active from users
          where lower(email collate "und-x-icu") = lower(${email} collate "und-x-icu")
        `,
      )
      return row
    },

    /** Replaces a password hash with one of the same password at the current cost, unless it changed meanwhile. */
    async replaceHash(userId: string, previous: string, replacement: string): Promise<boolean> {
      const result = await db.query(
        (sql) =>
          sql`update users set hashed_password = ${replacement} where id = ${userId} and hashed_password = ${previous}`,
      )
      return result.count > 0
    },

    /** Open registration: a plain, active account. A duplicate email (in any case) is the unique index's 409. */
    async register(user: NewUser): Promise<User> {
      const [row] = await db
        .query(
          (sql) => sql<[UserRow]>`
            insert into users (email, hashed_password, full_name)
            values (${user.email}, ${user.hashed_password}, ${user.full_name ?? null})
            returning ${ownColumns(sql)}, '[]'::json as items
          `,
        )
        .catch(uniqueEmail)
      return toUser(row)
    },

    async createAs(caller: Caller, user: NewUser): Promise<User> {
      const rows = await db
        .query(
          (sql) => sql<CallerUserRow[]>`
            with caller as (${callerScope(sql, caller)}),
            created as (
              insert into users (email, hashed_password, full_name, is_active, is_superuser)
              select ${user.email}, ${user.hashed_password}, ${user.full_name ?? null},
                     ${user.is_active ?? true}, ${user.is_superuser ?? false}
              from caller where caller_is_superuser
              returning ${ownColumns(sql)}
            )
            select c.*, u.*, '[]'::json as items from caller c left join created u on true
          `,
        )
        .catch(uniqueEmail)
      const { caller: live, user: created } = split(rows)
      requireSuperuser(live)
      return created!
    },

    /** Users by id, with how many there are: superusers only. */
    async listAs(caller: Caller, page: Page): Promise<Listed<User>> {
      const rows = await db.query(
        (sql) => sql<(CallerUserRow & { total: string | null })[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*,
            case when c.caller_is_superuser then (select sum(count) from row_counts where table_name = 'users') end as total,
            u.*
          from caller c left join lateral (
            select ${publicColumns(sql)} from users u where c.caller_is_superuser ${afterCursor(sql, page, 'u.id')}
            ${pageWindow(sql, page, 'u.id')}
          ) u on true
        `,
      )
      requireSuperuser(liveCallerOf(rows))
      return listedFrom(rows, (row) => toUser(row as UserRow))
    },

    /** A user, for itself or a superuser; anyone else gets 403, whether the user exists or not. */
    async getAs(caller: Caller, id: string): Promise<User> {
      const rows = await db.query(
        (sql) => sql<CallerUserRow[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*, u.* from caller c left join lateral (
            select ${publicColumns(sql)} from users u where u.id = ${id} and (c.caller_is_superuser or u.id = c.caller_id)
          ) u on true
        `,
      )
      const { caller: live, user } = split(rows)
      requireSelfOrSuperuser(live, id)
      if (!user) throw userNotFound()
      return user
    },

    /**
     * A superuser's change to any user. A new password or deactivation also ends every session the
     * user has, in the same transaction.
     */
    async updateAs(caller: Caller, id: string, changes: UserChanges): Promise<User> {
      const columns = CHANGEABLE.filter((column) => changes[column] !== undefined)
      const endsSessions = changes.hashed_password !== undefined || changes.is_active === false
      return db.transaction(async (tx) => {
        const rows = await tx
          .query(
            (sql) => sql<CallerUserRow[]>`
              with caller as (${callerScope(sql, caller)}),
              changed as (
                ${
                  columns.length === 0
                    ? sql`select ${ownColumns(sql)} from users u where u.id = ${id} and (select caller_is_superuser from caller)`
                    : sql`update users u set ${sql(changes, columns)} from caller c
                          where u.id = ${id} and c.caller_is_superuser returning ${ownColumns(sql)}`
                }
              )
              select c.*, u.* from caller c left join lateral (select ${publicColumns(sql)} from changed u) u on true
            `,
          )
          .catch(uniqueEmail)
        const { caller: live, user } = split(rows)
        requireSuperuser(live)
        if (!user) throw userNotFound()
        if (endsSessions) await endSessions(tx, id)
        return user
      })
    },

    /** The caller's own name or email (the route has checked the password for a new email). */
    async updateOwn(caller: Caller, changes: Pick<UserChanges, 'email' | 'full_name'>): Promise<User> {
      const columns = (['email', 'full_name'] as const).filter((column) => changes[column] !== undefined)
      if (columns.length === 0) return this.getAs(caller, caller.userId)
      const rows = await db
        .query(
          (sql) => sql<CallerUserRow[]>`
            with caller as (${callerScope(sql, caller)}),
            changed as (
              update users u set ${sql(changes, columns)} from caller c where u.id = c.caller_id
              returning ${ownColumns(sql)}
            )
            select c.*, u.* from caller c left join lateral (select ${publicColumns(sql)} from changed u) u on true
          `,
        )
        .catch(uniqueEmail)
      return split(rows).user!
    },

    /** The caller's email and password hash, to check a password it types before a change. */
    async credentialsOf(caller: Caller): Promise<{ email: string; hashed_password: string }> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { email: string; hashed_password: string })[]>`
          with caller as (${callerScope(sql, caller)})
          select c.*, u.email, u.hashed_password from caller c join users u on u.id = c.caller_id
        `,
      )
      liveCallerOf(rows)
      const { email, hashed_password } = rows[0]!
      return { email, hashed_password }
    },

    /** Sets the caller's password and ends every other session of the account; the caller's stays. */
    async changeOwnPassword(caller: Caller, hashedPassword: string): Promise<void> {
      await db.transaction(async (tx) => {
        const rows = await tx.query(
          (sql) => sql<CallerColumns[]>`
            with caller as (${callerScope(sql, caller)}),
            changed as (update users u set hashed_password = ${hashedPassword} from caller c where u.id = c.caller_id)
            select * from caller
          `,
        )
        liveCallerOf(rows)
        await endSessions(tx, caller.userId, caller.sessionId)
      })
    },

    /** A superuser deletes a user (not itself); its items and sessions go with it, by cascade. */
    async deleteAs(caller: Caller, id: string): Promise<void> {
      const rows = await db.query(
        (sql) => sql<(CallerColumns & { deleted: boolean })[]>`
          with caller as (${callerScope(sql, caller)}),
          deleted as (
            delete from users u using caller c
            where u.id = ${id} and c.caller_is_superuser and u.id <> c.caller_id returning u.id
          )
          select c.*, exists (select 1 from deleted) as deleted from caller c
        `,
      )
      const live = liveCallerOf(rows)
      requireSuperuser(live)
      if (live.id === id) throw cannotDeleteSelf()
      if (!rows[0]!.deleted) throw userNotFound()
    },

    /** The caller deletes its own account; a superuser may not (someone must stay in charge). */
    async deleteOwn(caller: Caller): Promise<void> {
      const rows = await db.query(
        (sql) => sql<CallerColumns[]>`
          with caller as (${callerScope(sql, caller)}),
          deleted as (delete from users u using caller c where u.id = c.caller_id and not c.caller_is_superuser)
          select * from caller
        `,
      )
      if (liveCallerOf(rows).isSuperuser) throw cannotDeleteSelf()
    },

    /**
     * The first superuser, made at start if no account has its email: idempotent, and safe when several
     * instances start at once (the unique index decides). Returns whether it was made, or else
     * whether the existing account is a superuser.
     */
    async ensureSuperuser(email: string, hashedPassword: string): Promise<'created' | 'superuser' | 'not-superuser'> {
      const [created] = await db.query(
        (sql) => sql<[{ id: string }?]>`
          insert into users (email, hashed_password, is_superuser) values (${email}, ${hashedPassword}, true)
          on conflict do nothing returning id
        `,
      )
      if (created) return 'created'
      const [existing] = await db.query(
        (sql) => sql<[{ is_superuser: boolean }?]>`
          select is_superuser from users where lower(email collate "und-x-icu") = lower(${email} collate "und-x-icu")
        `,
      )
      return existing?.is_superuser ? 'superuser' : 'not-superuser'
    },
  }
}
