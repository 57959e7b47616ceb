// The SQL of a page (src/paging.ts), for a list ordered by an id column: the cursor's condition, and
// the order and window. Repositories put them around their own statements.
import type { Page } from '../paging'
import type { Queryable } from './database'

/** `and <column> > <after_id>` for a cursor page, nothing for an offset page. */
export const afterCursor = (sql: Queryable, page: Page, column: string) =>
  page.afterId === undefined ? sql`` : sql`and ${sql(column)} > ${page.afterId}`

/** `order by <columns> offset .. limit ..`, or without the offset for a cursor page. */
export const pageWindow = (sql: Queryable, page: Page, columns: string | string[]) =>
  page.afterId === undefined
    ? sql`order by ${sql(columns)} offset ${page.offset} limit ${page.limit}`
    : sql`order by ${sql(columns)} limit ${page.limit}`
