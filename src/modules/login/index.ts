import { Elysia } from 'elysia'
import type { AuthGuard } from '../../http/auth'
import { ErrorModel, errorResponses, Ok } from '../../http/schema'
import type { SessionOrigin, SessionsRepository } from '../sessions/repository'
import { LoginModel } from './model'
import type { LoginService } from './service'

export interface LoginRoutesDependencies {
  login: LoginService
  sessions: SessionsRepository
  clientAddress: (request: Request) => string
  auth: AuthGuard['plugin']
}

export function loginRoutes({ login, sessions, clientAddress, auth }: LoginRoutesDependencies) {
  const originOf = (request: Request): SessionOrigin => ({
    userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? null,
    clientAddress: clientAddress(request),
  })

  return new Elysia({ name: 'login', detail: { tags: ['login'] } })
    .use(auth)
    .model(LoginModel)
    .model(ErrorModel)
    .post(
      '/login/access-token',
      ({ body, request, set }) => {
        set.headers['cache-control'] = 'no-store'
        return login.login(body.username, body.password, originOf(request))
      },
      {
        // Read by the body reader (src/http/body.ts) and the document: the OAuth2 form, not JSON.
        parse: 'urlencoded',
        body: 'LoginForm',
        response: { 200: 'Token', ...errorResponses(400, 413, 415, 422, 429, 503) },
        detail: {
          operationId: 'login',
          summary: 'Log in',
          description:
            'OAuth2 password flow: `username` is the email. Starts a session. After 5 failed logins for one email from one address within 15 minutes (100 for one address across emails), 429 until the oldest leaves the window.',
        },
      },
    )
    .post(
      '/login/refresh',
      ({ body, request, set }) => {
        set.headers['cache-control'] = 'no-store'
        return login.refresh(body.refresh_token, originOf(request))
      },
      {
        // JSON, or the form standard OAuth2 clients send to a `refreshUrl` (`grant_type=refresh_token`).
        parse: ['json', 'urlencoded'],
        body: 'RefreshRequest',
        response: { 200: 'Token', ...errorResponses(401, 413, 415, 422, 503) },
        detail: {
          operationId: 'refreshToken',
          summary: 'Refresh the tokens',
          description:
            'Swaps a refresh token for a new pair. Each refresh token works once: a second use (a leaked or replayed token) ends the whole session.',
        },
      },
    )
    .post(
      '/logout',
      async ({ caller }) => {
        await sessions.revokeOwn(caller)
        return { ok: true as const }
      },
      {
        auth: 'user',
        response: { 200: Ok, ...errorResponses(401, 503) },
        detail: { operationId: 'logout', summary: 'Log out', description: 'Ends the session of the token sent.' },
      },
    )
}
