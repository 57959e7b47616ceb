import { NotFoundError } from '../../errors'

export const itemNotFound = () => new NotFoundError('item_not_found', 'Item not found')
