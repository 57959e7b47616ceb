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
import { createPasswordHasher } from './security/passwords'

export interface AppDependencies {
  sql: Sql
  config: Config
  logger?: Logger
  lifecycle?: Lifecycle
}

export function createApp({
  sql,
  config,
  logger = createLogger({ level: 'silent', json: false }),
  lifecycle = { draining: false },
}: AppDependencies) {
  const db = createDatabase(sql, config.database)
  const users = createUsersRepository(db)
  const items = createItemsRepository(db)
  const passwords = createPasswordHasher(config.passwordHash)

  // Filled in once every route exists: the error handler asks which methods a path has (405
  // versus 404), and the docs read the plugin's generated document through the finished app.
  let allowedMethods: (path: string) => string[] = () => []
  let handle: (request: Request) => Promise<Response> = () => Promise.reject(new Error('The app is not built yet'))

  // Every response goes through the hooks (request ids, logs, the docs guard): no Bun static routes.
  const app = new Elysia({ nativeStaticResponse: false })
    .use(requestLog(logger))
    .use(errorHandler({ logger, allowedMethods: (path) => allowedMethods(path) }))
    .onParse({ as: 'global' }, parseJsonBody(config.maxBodyBytes))
    .use(docs({ handle: (request) => handle(request) }))
    .use(healthRoutes({ db, lifecycle }))
    .use(usersRoutes({ users, passwords }))
    .use(itemsRoutes({ items }))

  allowedMethods = createMethodLookup(app.routes)
  handle = app.handle
  return app
}

/** The app's type, for an Eden treaty client: `treaty<App>('localhost:3000')`. */
export type App = ReturnType<typeof createApp>
