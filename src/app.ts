// Builds the whole HTTP application from its dependencies, without listening, so tests drive it
// through `app.handle` exactly as production serves it.
import { Elysia } from 'elysia'
import type { Sql } from 'postgres'
import type { Config } from './config'
import { createDatabase } from './db/database'
import { docs } from './docs'
import { createAuthGuard } from './http/auth'
import { parseBody } from './http/body'
import { createClientAddress } from './http/client-address'
import { corsFor, corsHeadersFor } from './http/cors'
import { errorHandler } from './http/error-handler'
import { withInflightLimit } from './http/inflight'
import { withRequestLog } from './http/request-log'
import { createRouteLookup, type RouteLookup } from './http/route-lookup'
import { withSecurityHeaders } from './http/security-headers'
import { createLogger, type Logger } from './logger'
import { healthRoutes, type Lifecycle } from './modules/health'
import { createIdempotency } from './modules/idempotency'
import { createIdempotencyRepository } from './modules/idempotency/repository'
import { itemsRoutes } from './modules/items'
import { createItemsRepository } from './modules/items/repository'
import { loginRoutes } from './modules/login'
import { createLoginAttemptsRepository } from './modules/login/repository'
import { createLoginService } from './modules/login/service'
import { createPasswordThrottle } from './modules/login/throttle'
import { sessionsRoutes } from './modules/sessions'
import { createSessionsRepository } from './modules/sessions/repository'
import { usersRoutes } from './modules/users'
import { createUsersRepository } from './modules/users/repository'
import { createPasswordHasher, type PasswordHasher } from './security/passwords'
import { createTokenService, type TokenService } from './security/tokens'

export interface AppDependencies {
  sql: Sql
  config: Config
  logger?: Logger
  lifecycle?: Lifecycle
  /** Default: argon2id with the configured cost, behind its concurrency cap. */
  passwords?: PasswordHasher
  /** Default: HS256 access tokens with the configured keys. */
  tokens?: TokenService
}

export function createApp({
  sql,
  config,
  logger = createLogger({ level: 'silent', json: false }),
  lifecycle = { draining: false },
  passwords = createPasswordHasher(config.passwordHash),
  tokens = createTokenService(config.auth),
}: AppDependencies) {
  const db = createDatabase(sql, config.database, logger)
  const users = createUsersRepository(db, config.items)
  const items = createItemsRepository(db, config.items)
  const idempotency = createIdempotency({
    db,
    keys: createIdempotencyRepository(db),
    secretKeys: config.auth.secretKeys,
  })
  const sessions = createSessionsRepository(db, { lifetimeDays: config.auth.refreshTokenDays })
  const attempts = createLoginAttemptsRepository(db, config.auth.loginThrottle)
  const throttle = createPasswordThrottle(attempts)
  const login = createLoginService({ users, sessions, attempts, throttle, passwords, tokens })
  const guard = createAuthGuard({ tokens, findCaller: sessions.findCaller })
  const auth = guard.plugin
  const clientAddress = createClientAddress(config.auth.trustedProxies)

  // The error handler and the body reader come first, so they cover every route, yet answer from the
  // route table (405 versus 404; 401 or 403 ahead of a bad body; a form or JSON), which is complete
  // only at the end.
  let routes: RouteLookup | undefined

  // Every response goes through the error handler and `handle` (request ids, logs): no Bun static routes.
  const app = new Elysia({ nativeStaticResponse: false })
    .use(config.corsOrigins.length > 0 ? corsFor(config.corsOrigins) : new Elysia({ name: 'no-cors' }))
    .use(
      errorHandler({
        logger,
        allowedMethods: (path) => routes?.allowedMethods(path) ?? [],
        confirmCaller: async (request, path) => {
          const access = routes?.accessOf(request.method, path)
          return access && guard.confirmCaller(request, access)
        },
      }),
    )
    .onParse(
      { as: 'global' },
      parseBody(config.maxBodyBytes, (method, path) => routes?.bodyOf(method, path)),
    )
    .use(healthRoutes({ db, lifecycle }))
    .use(loginRoutes({ login, sessions, clientAddress, auth }))
    .use(
      usersRoutes({
        users,
        idempotency,
        passwords,
        throttle,
        clientAddress,
        findCaller: sessions.findCaller,
        auth,
        openRegistration: config.auth.openRegistration,
      }),
    )
    .use(sessionsRoutes({ sessions, auth }))
    .use(itemsRoutes({ items, idempotency, findCaller: sessions.findCaller, auth }))
  // `.use` adds the docs routes to this same app; its document describes every route but theirs.
  const documented = app.use(docs(app))

  routes = createRouteLookup(documented.routes)
  // Every caller of `handle` (the server, tests, an Eden client) gets request ids, access lines, the
  // security headers and the bound on requests in flight.
  documented.handle = withInflightLimit(withRequestLog(withSecurityHeaders(documented.handle), logger), {
    max: config.maxInflight,
    logger,
    corsHeaders: corsHeadersFor(config.corsOrigins),
  })
  return documented
}

/** The app's type, for an Eden treaty client: `treaty<App>('localhost:3000')`. */
export type App = ReturnType<typeof createApp>
