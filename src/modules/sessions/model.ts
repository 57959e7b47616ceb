import { t } from 'elysia'

const SessionId = t.String({ format: 'uuid', description: 'A session, as `GET /users/me/sessions` lists it.' })

const Session = t.Object(
  {
    id: SessionId,
    created_at: t.String({ format: 'date-time', description: 'When the session began: the login.' }),
    last_used_at: t.String({ format: 'date-time', description: 'The login or the last refresh.' }),
    expires_at: t.String({
      format: 'date-time',
      description: 'When its refresh token stops working, whatever happens.',
    }),
    user_agent: t.Nullable(t.String()),
    client_address: t.Nullable(t.String()),
    current: t.Boolean({ description: 'Whether this is the session of the token this request came with.' }),
  },
  { description: 'A live login session: never its tokens.' },
)

export const SessionModel = {
  Session,
  SessionList: t.Array(Session, { description: 'The live sessions, newest first.' }),
} as const

export const SessionParams = t.Object({ session_id: SessionId })

export type Session = typeof Session.static
