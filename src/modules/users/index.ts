import { Elysia } from 'elysia'
import { RejectedError } from '../../errors'
import type { AuthGuard } from '../../http/auth'
import { ValidationFailedError } from '../../http/errors'
import { ErrorModel, errorResponses, Ok, PageQuery } from '../../http/schema'
import { LIST, listHeaders, pageOf } from '../../paging'
import { type LiveCaller, requireSuperuser } from '../../security/access'
import type { PasswordHasher } from '../../security/passwords'
import type { Caller } from '../../security/tokens'
import { type Idempotency, keyedRequest, NO_CALLER } from '../idempotency'
import { createdHeaders, IdempotencyHeaders } from '../idempotency/model'
import type { PasswordThrottle } from '../login/throttle'
import { registrationClosed } from './errors'
import { UserModel, UserParams } from './model'
import type { UsersRepository } from './repository'

export interface UsersRoutesDependencies {
  users: UsersRepository
  idempotency: Idempotency
  passwords: PasswordHasher
  throttle: PasswordThrottle
  clientAddress: (request: Request) => string
  /** The caller as the database sees it now: for a check that must come before costly work. */
  findCaller: (caller: Caller) => Promise<LiveCaller>
  auth: AuthGuard['plugin']
  openRegistration: boolean
}

const incorrectPassword = () => new RejectedError('incorrect_password', 'Incorrect password')

export function usersRoutes({
  users,
  idempotency,
  passwords,
  throttle,
  clientAddress,
  findCaller,
  auth,
  openRegistration,
}: UsersRoutesDependencies) {
  /**
   * Checks the password the caller typed, throttled like a login (a stolen token must not become a
   * way to guess the password); answers the hash it was checked against. Wrong: 400.
   */
  const confirmPassword = async (caller: Caller, password: string, request: Request): Promise<string> => {
    const { email, hashed_password } = await users.credentialsOf(caller)
    const confirmed = await throttle.attempt(email, clientAddress(request), async () =>
      (await passwords.verify(password, hashed_password)) ? hashed_password : undefined,
    )
    if (confirmed === undefined) throw incorrectPassword()
    return confirmed
  }

  return new Elysia({ name: 'users', detail: { tags: ['users'] } })
    .use(auth)
    .model(UserModel)
    .model(ErrorModel)
    .post(
      '/users/signup',
      async ({ body, headers, set, status }) => {
        if (!openRegistration) throw registrationClosed()
        const hashed_password = await passwords.hash(body.password)
        const { value: user, replayed } = await idempotency.create(
          keyedRequest(headers['idempotency-key'], NO_CALLER, 'POST /users/signup', body),
          (db) => users.on(db).register({ email: body.email, hashed_password, full_name: body.full_name }),
          { answer: UserModel.User },
        )
        Object.assign(set.headers, createdHeaders(`/users/${user.id}`, replayed))
        return status(201, user)
      },
      {
        headers: IdempotencyHeaders,
        body: 'UserRegister',
        response: { 201: 'User', ...errorResponses(400, 403, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'registerUser',
          summary: 'Sign up',
          description:
            'Open registration (403 when the server turns it off). The email must not be registered yet, in any letter case: as on any service without email verification, a 409 here tells that an email is registered.',
        },
      },
    )
    .get('/users/me', ({ caller }) => users.getAs(caller, caller.userId), {
      auth: 'user',
      response: { 200: 'User', ...errorResponses(401, 503) },
      detail: { operationId: 'readMe', summary: 'Read your account' },
    })
    .patch(
      '/users/me',
      async ({ caller, body, request }) => {
        const { current_password, ...changes } = body
        if (changes.email !== undefined) {
          if (current_password === undefined) {
            throw new ValidationFailedError([
              { loc: ['body', 'current_password'], msg: 'Field required to change the email', type: 'missing' },
            ])
          }
          await confirmPassword(caller, current_password, request)
        }
        return users.updateOwn(caller, changes)
      },
      {
        auth: 'user',
        body: 'UserUpdateMe',
        response: { 200: 'User', ...errorResponses(400, 401, 409, 413, 415, 422, 429, 503) },
        detail: {
          operationId: 'updateMe',
          summary: 'Update your account',
          description:
            'Only the fields sent change. A new email needs `current_password` (400 when wrong; wrong ones count against the login throttle: 429).',
        },
      },
    )
    .patch(
      '/users/me/password',
      async ({ caller, body, request }) => {
        const current = await confirmPassword(caller, body.current_password, request)
        if (await passwords.verify(body.new_password, current)) {
          throw new RejectedError('password_unchanged', 'New password cannot be the same as the current one')
        }
        await users.changeOwnPassword(caller, await passwords.hash(body.new_password))
        return { ok: true as const }
      },
      {
        auth: 'user',
        body: 'UpdatePassword',
        response: { 200: Ok, ...errorResponses(400, 401, 413, 415, 422, 429, 503) },
        detail: {
          operationId: 'updatePasswordMe',
          summary: 'Change your password',
          description:
            'Every other session of the account ends; this one stays. A wrong `current_password` counts against the login throttle (429).',
        },
      },
    )
    .delete(
      '/users/me',
      async ({ caller }) => {
        await users.deleteOwn(caller)
        return { ok: true as const }
      },
      {
        auth: 'user',
        response: { 200: Ok, ...errorResponses(401, 403, 503) },
        detail: {
          operationId: 'deleteMe',
          summary: 'Delete your account',
          description: 'With its items and sessions. Superusers may not delete themselves.',
        },
      },
    )
    .post(
      '/users/',
      async ({ caller, body, headers, set, status }) => {
        // Checked before the hash, which costs far more than the check.
        requireSuperuser(await findCaller(caller))
        const { password, ...fields } = body
        const hashed_password = await passwords.hash(password)
        const { value: user, replayed } = await idempotency.create(
          keyedRequest(headers['idempotency-key'], caller.userId, 'POST /users/', body),
          (db) => users.on(db).createAs(caller, { ...fields, hashed_password }),
          { answer: UserModel.User },
        )
        Object.assign(set.headers, createdHeaders(`/users/${user.id}`, replayed))
        return status(201, user)
      },
      {
        auth: 'superuser',
        headers: IdempotencyHeaders,
        body: 'UserCreate',
        response: { 201: 'User', ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'createUser',
          summary: 'Create a user',
          description: 'Superusers only. The email must not be registered yet, in any letter case.',
        },
      },
    )
    .get(
      '/users/',
      async ({ caller, query, set }) => {
        const page = pageOf(query)
        const list = await users.listAs(caller, page)
        Object.assign(set.headers, listHeaders('/users/', page, list))
        return list.rows
      },
      {
        auth: 'superuser',
        query: PageQuery,
        response: { 200: 'UserList', ...errorResponses(401, 403, 422, 503) },
        detail: {
          ...LIST,
          operationId: 'listUsers',
          summary: 'List users',
          description: 'Superusers only. Ordered by id, each with its items; `X-Total-Count` says how many there are.',
        },
      },
    )
    .get('/users/:user_id', ({ caller, params }) => users.getAs(caller, params.user_id), {
      auth: 'user',
      params: UserParams,
      response: { 200: 'User', ...errorResponses(401, 403, 404, 422, 503) },
      detail: {
        operationId: 'readUser',
        summary: 'Read a user',
        description: 'Yourself, or anyone for a superuser; with the items it owns.',
      },
    })
    .patch(
      '/users/:user_id',
      async ({ caller, params, body }) => {
        const { password, ...rest } = body
        if (password !== undefined) requireSuperuser(await findCaller(caller))
        const changes = { ...rest, ...(password !== undefined && { hashed_password: await passwords.hash(password) }) }
        return users.updateAs(caller, params.user_id, changes)
      },
      {
        auth: 'superuser',
        params: UserParams,
        body: 'UserUpdate',
        response: { 200: 'User', ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'updateUser',
          summary: 'Update a user',
          description:
            'Superusers only. Only the fields sent change; an empty body changes nothing. A new password or deactivation ends all of its sessions.',
        },
      },
    )
    .delete(
      '/users/:user_id',
      async ({ caller, params }) => {
        await users.deleteAs(caller, params.user_id)
        return { ok: true as const }
      },
      {
        auth: 'superuser',
        params: UserParams,
        response: { 200: Ok, ...errorResponses(401, 403, 404, 422, 503) },
        detail: {
          operationId: 'deleteUser',
          summary: 'Delete a user',
          description: 'Superusers only, and not themselves. Its items and sessions go with it.',
        },
      },
    )
}
