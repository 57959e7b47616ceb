// A page of rows: by offset and limit (the tutorial's `skip` and `limit`), or by cursor (`after_id`:
// the rows after the last one a client has), which costs the same at the 250,000th row as at the
// first. The numbers stay text, validated at the edge: they reach SQL as parameters, never through a
// JS number (an offset may exceed 2^53).

export const DEFAULT_PAGE_LIMIT = 100
export const MAX_PAGE_LIMIT = 100

/** `offset` rows skipped, after the row `afterId` when there is a cursor. */
export interface Page {
  limit: string
  offset: string
  afterId?: string
}

export interface PageParameters {
  offset?: string
  skip?: string
  after_id?: string
  limit?: string
}

/** The page a list request asks for, with the defaults: with a cursor and an offset, the offset counts from the cursor. */
export function pageOf(query: PageParameters): Page {
  const limit = query.limit ?? String(DEFAULT_PAGE_LIMIT)
  const offset = query.offset ?? query.skip ?? '0'
  return query.after_id === undefined ? { limit, offset } : { limit, offset, afterId: query.after_id }
}

/** A page of a list, and how many rows the whole list has. */
export interface Listed<T> {
  rows: T[]
  total: number
}

/** Lists say how many rows there are in all, as PostgREST and many clients expect. */
export const TOTAL_COUNT_HEADER = 'X-Total-Count'
export const LINK_HEADER = 'Link'
/** A route's `detail` flag: it answers a list, with TOTAL_COUNT_HEADER and LINK_HEADER (the OpenAPI document declares them). */
export const LIST = { 'x-list': true } as const

/**
 * The headers of a list's answer: its total, and the `Link` to the next page (RFC 8288), by cursor
 * after this page's last row, when this page is full (else nothing follows). `path` is the list's own.
 */
export function listHeaders(path: string, page: Page, { rows, total }: Listed<{ id: number }>): Record<string, string> {
  const last = rows.at(-1)
  const full = last !== undefined && rows.length >= Number(page.limit)
  return {
    [TOTAL_COUNT_HEADER]: String(total),
    ...(full && { [LINK_HEADER]: `<${path}?after_id=${last.id}&limit=${page.limit}>; rel="next"` }),
  }
}
