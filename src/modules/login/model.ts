import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { EMAIL_STORED_MAX_LENGTH } from '../../emails'
import { text } from '../../http/schema'

export const LoginModel = {
  LoginForm: t.Object(
    {
      username: text({
        maxLength: EMAIL_STORED_MAX_LENGTH,
        description: 'The email of the account, as sent at sign-up or as the API answers it.',
      }),
      password: text({ maxLength: 128 }),
      grant_type: t.Optional(t.String({ pattern: '^password$', description: 'If sent, `password`.' })),
    },
    { description: "The OAuth2 password form, as FastAPI's `OAuth2PasswordRequestForm` takes it." },
  ),
  RefreshRequest: t.Object(
    {
      refresh_token: text({ minLength: 1, maxLength: 512 }),
      grant_type: t.Optional(t.String({ pattern: '^refresh_token$', description: 'If sent, `refresh_token`.' })),
    },
    { description: 'The refresh token the last login or refresh answered.' },
  ),
  Token: t.Object(
    {
      access_token: t.String({ description: 'A JWT to send as `Authorization: Bearer <token>`.' }),
      token_type: t.Literal('bearer'),
      // TypeBox's own Integer: Elysia's `t.Integer` is a string-or-number union.
      expires_in: Type.Integer({ minimum: 1, description: 'Seconds the access token stays valid.' }),
      refresh_token: t.String({
        description: 'Opaque; swaps for a new pair once at `POST /login/refresh`. Using it twice ends the session.',
      }),
    },
    { description: 'A new access token and the refresh token of its session.' },
  ),
} as const

export type LoginForm = typeof LoginModel.LoginForm.static
export type Token = typeof LoginModel.Token.static
