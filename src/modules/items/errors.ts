import { ConflictError, NotFoundError } from '../../errors'

export const itemNotFound = () => new NotFoundError('item_not_found', 'Item not found')

/** The owner has as many items as a user may (MAX_ITEMS_PER_USER). */
export const tooManyItems = (max: number) =>
  new ConflictError('too_many_items', `A user may own at most ${max} items; delete some first`)
