import { t } from 'elysia'
import { Email, Id, IdParam, Timestamp, text } from '../../http/schema'
import { ItemModel } from '../items/model'

const password = text({ minLength: 8, maxLength: 128, description: 'Stored only as an argon2id hash; never returned.' })

const User = t.Object(
  {
    id: Id,
    email: t.String(),
    is_active: t.Boolean(),
    created_at: Timestamp,
    items: t.Array(ItemModel.Item),
  },
  { description: 'A user and the items it owns.' },
)

export const UserModel = {
  User,
  UserList: t.Array(User, { description: 'Users, ordered by id, each with its items.' }),
  UserCreate: t.Object({ email: Email, password }, { description: 'A new user.' }),
  UserUpdate: t.Object(
    { email: t.Optional(Email), password: t.Optional(password), is_active: t.Optional(t.Boolean()) },
    { description: 'Fields to change; absent fields stay as they are.' },
  ),
} as const

export const UserParams = t.Object({ user_id: IdParam })

export type User = typeof UserModel.User.static
export type UserCreate = typeof UserModel.UserCreate.static
export type UserUpdate = typeof UserModel.UserUpdate.static
