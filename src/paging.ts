// A page of rows by offset and limit (the tutorial's `skip` and `limit`): what list queries take.
// The numbers stay text, validated at the edge: they reach SQL as parameters, never through a JS
// number (an offset may exceed 2^53).

export const DEFAULT_PAGE_LIMIT = 100
export const MAX_PAGE_LIMIT = 100

export interface Page {
  offset: string
  limit: string
}

/** The page a list request asks for: `offset` (or its alias `skip`) and `limit`, with their defaults. */
export function pageOf(query: { offset?: string; skip?: string; limit?: string }): Page {
  return { offset: query.offset ?? query.skip ?? '0', limit: query.limit ?? String(DEFAULT_PAGE_LIMIT) }
}

/** Lists say how many rows there are in all, as PostgREST and many clients expect. */
export const TOTAL_COUNT_HEADER = 'X-Total-Count'
/** A route's `detail` flag: its 200 carries TOTAL_COUNT_HEADER (the OpenAPI document declares it). */
export const COUNTED = { 'x-total-count': true } as const
