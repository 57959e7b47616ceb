import { t } from 'elysia'
import { Count, Email, Id, IdParam, Timestamp, text } from '../../http/schema'
import { ItemModel } from '../items/model'

const password = text({ minLength: 8, maxLength: 128, description: 'Stored only as an argon2id hash; never returned.' })
/** A password as the caller types it to prove who it is: checked against the hash, not against rules. */
const currentPassword = text({ maxLength: 128, description: 'The password the account has now.' })
const fullName = t.Nullable(text({ maxLength: 255 }))

const User = t.Object(
  {
    id: Id,
    email: t.String(),
    is_active: t.Boolean(),
    is_superuser: t.Boolean(),
    full_name: t.Nullable(t.String()),
    created_at: Timestamp,
    items_count: Count('How many items it owns.'),
    items: t.Array(ItemModel.Item, {
      description:
        'Its first items by id, up to USER_ITEMS_EMBED_MAX (default 100); all of them are at `GET /users/{user_id}/items/`.',
    }),
  },
  { description: 'A user, how many items it owns, and the first of them.' },
)

export const UserModel = {
  User,
  UserList: t.Array(User, { description: 'Users, ordered by id, each with its first items.' }),
  UserRegister: t.Object(
    { email: Email, password, full_name: t.Optional(fullName) },
    { description: 'A new account, made by its owner: never active-flagged or a superuser by request.' },
  ),
  UserCreate: t.Object(
    {
      email: Email,
      password,
      full_name: t.Optional(fullName),
      is_active: t.Optional(t.Boolean({ description: 'Default true.' })),
      is_superuser: t.Optional(t.Boolean({ description: 'Default false.' })),
    },
    { description: 'A new user, made by a superuser.' },
  ),
  UserUpdate: t.Object(
    {
      email: t.Optional(Email),
      password: t.Optional(password),
      full_name: t.Optional(fullName),
      is_active: t.Optional(t.Boolean()),
      is_superuser: t.Optional(t.Boolean()),
    },
    {
      description:
        'Fields to change, by a superuser; absent fields stay as they are. A new password or deactivation ends every session of the user.',
    },
  ),
  UserUpdateMe: t.Object(
    {
      full_name: t.Optional(fullName),
      email: t.Optional(Email),
      current_password: t.Optional(currentPassword),
    },
    {
      description: 'Fields of your own account to change; a new email needs `current_password` too.',
      // Checked by the route (a 422 naming current_password); stated here so clients know it.
      dependentRequired: { email: ['current_password'] },
    },
  ),
  UpdatePassword: t.Object(
    { current_password: currentPassword, new_password: password },
    { description: 'A new password; every other session of the account ends.' },
  ),
} as const

export const UserParams = t.Object({ user_id: IdParam })

export type User = typeof UserModel.User.static
