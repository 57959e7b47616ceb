import { t } from 'elysia'
import { Id, IdParam, Timestamp, text } from '../../http/schema'

const title = text({ minLength: 1, maxLength: 255 })
const description = text({ maxLength: 10_000 })

const Item = t.Object(
  {
    id: Id,
    title: t.String(),
    description: t.Nullable(t.String()),
    owner_id: Id,
    created_at: Timestamp,
  },
  { description: 'An item, owned by one user.' },
)

export const ItemModel = {
  Item,
  ItemList: t.Array(Item, { description: 'Items, ordered by id.' }),
  ItemCreate: t.Object({ title, description: t.Optional(t.Nullable(description)) }, { description: 'A new item.' }),
  ItemUpdate: t.Object(
    { title: t.Optional(title), description: t.Optional(t.Nullable(description)) },
    { description: 'Fields to change; `null` clears the description, absent fields stay as they are.' },
  ),
} as const

export const ItemParams = t.Object({ item_id: IdParam })
export const OwnerParams = t.Object({ user_id: IdParam })

export type Item = typeof ItemModel.Item.static
export type ItemCreate = typeof ItemModel.ItemCreate.static
export type ItemUpdate = typeof ItemModel.ItemUpdate.static
