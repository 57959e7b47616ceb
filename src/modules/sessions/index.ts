import { Elysia } from 'elysia'
import { NotFoundError } from '../../errors'
import type { AuthGuard } from '../../http/auth'
import { ErrorModel, errorResponses, Ok } from '../../http/schema'
import { userNotFound } from '../users/errors'
import { UserParams } from '../users/model'
import { SessionModel, SessionParams } from './model'
import type { SessionsRepository } from './repository'

const sessionNotFound = () => new NotFoundError('session_not_found', 'Session not found')

export function sessionsRoutes({ sessions, auth }: { sessions: SessionsRepository; auth: AuthGuard['plugin'] }) {
  return new Elysia({ name: 'sessions', detail: { tags: ['sessions'] } })
    .use(auth)
    .model(SessionModel)
    .model(ErrorModel)
    .get('/users/me/sessions', ({ caller }) => sessions.listOwn(caller), {
      auth: 'user',
      response: { 200: 'SessionList', ...errorResponses(401, 503) },
      detail: { operationId: 'listMySessions', summary: 'List your sessions', description: 'Live ones only.' },
    })
    .delete(
      '/users/me/sessions/:session_id',
      async ({ caller, params }) => {
        if (!(await sessions.revokeOwnById(caller, params.session_id))) throw sessionNotFound()
        return { ok: true as const }
      },
      {
        auth: 'user',
        params: SessionParams,
        response: { 200: Ok, ...errorResponses(401, 404, 422, 503) },
        detail: {
          operationId: 'revokeMySession',
          summary: 'End one of your sessions',
          description: 'Its access and refresh tokens stop working at once.',
        },
      },
    )
    .delete(
      '/users/:user_id/sessions',
      async ({ caller, params }) => {
        if (!(await sessions.revokeAllOf(caller, params.user_id))) throw userNotFound()
        return { ok: true as const }
      },
      {
        auth: 'superuser',
        params: UserParams,
        response: { 200: Ok, ...errorResponses(401, 403, 404, 422, 503) },
        detail: {
          operationId: 'revokeUserSessions',
          summary: "End all of a user's sessions",
          description: 'Superusers only.',
        },
      },
    )
}
