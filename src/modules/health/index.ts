import { Elysia, t } from 'elysia'
import type { Pool } from '../../db/database'
import { databaseUnavailable } from '../../db/errors'
import { UnavailableError } from '../../errors'
import { ErrorModel, errorResponses } from '../../http/schema'

/** Set by the entry point when shutdown begins, so load balancers stop sending traffic. */
export interface Lifecycle {
  draining: boolean
}

const Status = t.Object({ status: t.Literal('ok') })

export function healthRoutes({ db, lifecycle }: { db: Pool; lifecycle: Lifecycle }) {
  return new Elysia({ name: 'health', detail: { tags: ['health'] } })
    .model(ErrorModel)
    .get('/livez', () => ({ status: 'ok' as const }), {
      response: { 200: Status },
      detail: { operationId: 'livez', summary: 'Liveness', description: 'The process is up and serving.' },
    })
    .get(
      '/readyz',
      async () => {
        if (lifecycle.draining) throw new UnavailableError('shutting_down', 'Shutting down', 5)
        if (!(await db.ping())) throw databaseUnavailable()
        return { status: 'ok' as const }
      },
      {
        response: { 200: Status, ...errorResponses(503) },
        detail: {
          operationId: 'readyz',
          summary: 'Readiness',
          description: 'The database answers; 503 while it does not or while shutting down.',
        },
      },
    )
}
