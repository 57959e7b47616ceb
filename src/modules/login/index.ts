import { Elysia } from 'elysia'
import type { AuthGuard } from '../../http/auth'
import { clientAddressOf } from '../../http/client-address'
import { ErrorModel, errorResponses, Ok } from '../../http/schema'
import type { SessionOrigin, SessionsRepository } from '../sessions/repository'
import { LoginModel } from './model'
import type { LoginService } from './service'

/** The path of the one route that takes a form rather than JSON. */
export const LOGIN_PATH = '/login/access-token'

export interface LoginRoutesDependencies {
  login: LoginService
  sessions: SessionsRepository
  trustedProxies: ReadonlySet<string>
  auth: AuthGuard['plugin']
}

export function loginRoutes({ login, sessions, trustedProxies, auth }: LoginRoutesDependencies) {
  const originOf = (request: Request): SessionOrigin => ({
    userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? null,
    clientAddress: clientAddressOf(request, trustedProxies),
  })

  return new Elysia({ name: 'login', detail: { tags: ['login'] } })
    .use(auth)
    .model(LoginModel)
    .model(ErrorModel)
    .post(LOGIN_PATH, ({ body, request }) => login.login(body.username, body.password, originOf(request)), {
      parse: 'urlencoded',
      body: 'LoginForm',
      response: { 200: 'Token', ...errorResponses(400, 413, 415, 422, 429, 503) },
      detail: {
        operationId: 'login',
        summary: 'Log in',
        description:
          'OAuth2 password flow: `username` is the email. Starts a session. After 5 failed logins for one email from one address within 15 minutes (100 for one address across emails), 429 until the oldest leaves the window.',
      },
    })
    .post('/login/refresh', ({ body, request }) => login.refresh(body.refresh_token, originOf(request)), {
      body: 'RefreshRequest',
      response: { 200: 'Token', ...errorResponses(401, 413, 415, 422, 503) },
      detail: {
        operationId: 'refreshToken',
        summary: 'Refresh the tokens',
        description:
          'Swaps a refresh token for a new pair. Each refresh token works once: a second use (a leaked or replayed token) ends the whole session.',
      },
    })
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
