import { Elysia } from 'elysia'
import { ErrorModel, errorResponses, Ok, PageQuery } from '../../http/schema'
import { pageOf } from '../../paging'
import type { PasswordHasher } from '../../security/passwords'
import { userNotFound } from './errors'
import { UserModel, UserParams } from './model'
import type { UsersRepository } from './repository'

export function usersRoutes({ users, passwords }: { users: UsersRepository; passwords: PasswordHasher }) {
  return new Elysia({ name: 'users', detail: { tags: ['users'] } })
    .model(UserModel)
    .model(ErrorModel)
    .post(
      '/users/',
      async ({ body, set, status }) => {
        const user = await users.createUser({
          email: body.email,
          hashed_password: await passwords.hash(body.password),
        })
        set.headers.location = `/users/${user.id}`
        return status(201, user)
      },
      {
        body: 'UserCreate',
        response: { 201: 'User', ...errorResponses(400, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'createUser',
          summary: 'Create a user',
          description: 'The email must not be registered yet, in any letter case.',
        },
      },
    )
    .get('/users/', ({ query }) => users.listUsers(pageOf(query)), {
      query: PageQuery,
      response: { 200: 'UserList', ...errorResponses(422, 503) },
      detail: { operationId: 'listUsers', summary: 'List users', description: 'Ordered by id, each with its items.' },
    })
    .get(
      '/users/:user_id',
      async ({ params }) => {
        const user = await users.getUser(params.user_id)
        if (!user) throw userNotFound()
        return user
      },
      {
        params: UserParams,
        response: { 200: 'User', ...errorResponses(404, 422, 503) },
        detail: { operationId: 'readUser', summary: 'Read a user', description: 'With the items it owns.' },
      },
    )
    .patch(
      '/users/:user_id',
      async ({ params, body }) => {
        const { password, ...rest } = body
        const changes = { ...rest, ...(password !== undefined && { hashed_password: await passwords.hash(password) }) }
        const user = await users.updateUser(params.user_id, changes)
        if (!user) throw userNotFound()
        return user
      },
      {
        params: UserParams,
        body: 'UserUpdate',
        response: { 200: 'User', ...errorResponses(400, 404, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'updateUser',
          summary: 'Update a user',
          description: 'Only the fields sent change; an empty body changes nothing.',
        },
      },
    )
    .delete(
      '/users/:user_id',
      async ({ params }) => {
        if (!(await users.deleteUser(params.user_id))) throw userNotFound()
        return { ok: true as const }
      },
      {
        params: UserParams,
        response: { 200: Ok, ...errorResponses(404, 422, 503) },
        detail: { operationId: 'deleteUser', summary: 'Delete a user', description: 'Its items are deleted with it.' },
      },
    )
}
