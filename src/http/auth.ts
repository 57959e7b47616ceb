// Bearer authentication at the HTTP edge. A route says `auth: 'user'` or `auth: 'superuser'`; the
// token is verified (signature and claims, no database) before the handler runs, and the handler
// gets the `caller` it names. Whether that caller's session is still live, and whether it may do
// what it asks, is checked by the route's own statement (modules/sessions/repository.ts).
//
// The contract answers 401 and 403 before any complaint about the body. Elysia parses and validates
// the body before a route's hooks run, so when a protected route's request fails there, the error
// handler asks `confirmCaller` first: a caller that would get 401 or 403 gets that instead.
import { Elysia } from 'elysia'
import { type DomainError, UnauthenticatedError } from '../errors'
import { type LiveCaller, notEnoughPrivileges } from '../security/access'
import type { Caller, TokenService } from '../security/tokens'

export type Access = 'user' | 'superuser'

/** The OpenAPI security scheme's name; `src/docs/openapi.ts` declares it. */
export const SECURITY_SCHEME = 'OAuth2PasswordBearer'
/** Marks a superuser-only operation in the document (and for `confirmCaller`). */
export const ACCESS_EXTENSION = 'x-access'

const notAuthenticated = () => new UnauthenticatedError('not_authenticated', 'Not authenticated')

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 7235). */
function bearerToken(request: Request): string | undefined {
  const match = /^Bearer +([^\s]+) *$/i.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}

export interface AuthGuardDependencies {
  tokens: TokenService
  /** The caller as the database sees it now; throws `invalid_token` when its session or user is gone. */
  findCaller: (caller: Caller) => Promise<LiveCaller>
}

export function createAuthGuard({ tokens, findCaller }: AuthGuardDependencies) {
  const authenticate = (request: Request): Promise<Caller> => {
    const token = bearerToken(request)
    return token === undefined ? Promise.reject(notAuthenticated()) : tokens.verify(token)
  }

  return {
    plugin: new Elysia({ name: 'auth', seed: tokens }).macro({
      auth: (access: Access) => ({
        detail: { security: [{ [SECURITY_SCHEME]: [] }], [ACCESS_EXTENSION]: access },
        resolve: async ({ request }) => ({ caller: await authenticate(request) }),
      }),
    }),

    /** What a protected route's caller should hear instead of a complaint about its request, if anything. */
    async confirmCaller(request: Request, access: Access): Promise<DomainError | undefined> {
      try {
        const caller = await findCaller(await authenticate(request))
        if (access === 'superuser' && !caller.isSuperuser) return notEnoughPrivileges()
      } catch (error) {
        if (error instanceof UnauthenticatedError) return error
        // The database could not say: the request's own problem is still worth reporting.
      }
      return undefined
    },
  }
}

export type AuthGuard = ReturnType<typeof createAuthGuard>
