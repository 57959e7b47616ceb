// The SQL of a page (src/paging.ts), for a list ordered by an id column: the cursor's condition, and
// the order and window. Repositories put them around their own statements.
import type { Listed, Page } from '../paging'
import type { Queryable } from './database'

/** `and <column> > <after_id>` for a cursor page, nothing for an offset page. */
export const afterCursor = (sql: Queryable, page: Page, column: string) =>
  page.afterId === undefined ? sql`` : sql`and ${sql(column)} > ${page.afterId}`

/** `order by <columns> offset .. limit ..`; a cursor page without an offset has none (one plan for the common case). */
export const pageWindow = (sql: Queryable, page: Page, columns: string | string[]) =>
  page.afterId !== undefined && page.offset === '0'
    ? sql`order by ${sql(columns)} limit ${page.limit}`
    : sql`order by ${sql(columns)} offset ${page.offset} limit ${page.limit}`

/**
 * A page as a caller-scoped list statement returns it (one row per listed row, or a single row
 * without one when the page is empty, each beside the list's total): its rows, and the total.
 */
export function listedFrom<R extends { id: string | null; total: string | null }, T>(
  rows: readonly R[],
  toApi: (row: R) => T,
): Listed<T> {
  return { rows: rows.filter((row) => row.id !== null).map(toApi), total: Number(rows[0]!.total) }
}
