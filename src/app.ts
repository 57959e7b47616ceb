// Builds the whole HTTP application from its dependencies, without listening, so tests drive it
// through `app.handle` exactly as production serves it.
import { Elysia } from 'elysia'
import type { Sql } from 'postgres'
import type { Config } from './config'
import { createDatabase } from './db/database'
import { docs } from './docs'
import { parseJsonBody } from './http/body'
import { errorHandler } from './http/error-handler'
import { createMethodLookup } from './http/methods'
import { requestLog } from './http/request-log'
import { createLogger, type Logger } from './logger'
import { healthRoutes, type Lifecycle } from './modules/health'
import { itemsRoutes } from './modules/items'
import { createItemsRepository } from './modules/items/repository'
import { usersRoutes } from './modules/users'
import { createUsersRepository } from './modules/users/repository'
import { createPasswordHasher, type PasswordHasher } from './security/passwords'

export interface AppDependencies {
  sql: Sql
  config: Config
  logger?: Logger
  lifecycle?: Lifecycle
  /** Default: argon2id with the configured cost, behind its concurrency cap. */
  passwords?: PasswordHasher
}

export function createApp({
  sql,
  config,
  logger = createLogger({ level: 'silent', json: false }),
  lifecycle = { draining: false },
  passwords = createPasswordHasher(config.passwordHash),
}: AppDependencies) {
  const db = createDatabase(sql, config.database)
  const users = createUsersRepository(db)
  const items = createItemsRepository(db)

  // The error handler comes first, so it covers every route, yet answers 405 versus 404 from the
  // route table, which is complete only at the end.
  let allowedMethods: (path: string) => string[] = () => []

  // Every response goes through the hooks (request ids, logs): no Bun static routes.
  const app = new Elysia({ nativeStaticResponse: false })
    .use(requestLog(logger))
    .use(errorHandler({ logger, allowedMethods: (path) => allowedMethods(path) }))
    .onParse({ as: 'global' }, parseJsonBody(config.maxBodyBytes))
    .use(healthRoutes({ db, lifecycle }))
    .use(usersRoutes({ users, passwords }))
    .use(itemsRoutes({ items }))
  // `.use` adds the docs routes to this same app; its document describes every route but theirs.
  const documented = app.use(docs(app))

  allowedMethods = createMethodLookup(documented.routes)
  return documented
}

/** The app's type, for an Eden treaty client: `treaty<App>('localhost:3000')`. */
export type App = ReturnType<typeof createApp>
