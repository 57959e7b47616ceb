// Access tokens: short-lived JWTs (RFC 9068's `at+jwt`), HS256 with jose. They say who the caller is
// (`sub`) and in which session (`sid`); whether that session is still live is the database's to say,
// in each request's own statement (modules/sessions/repository.ts).
import { errors, jwtVerify, SignJWT } from 'jose'
import type { AuthConfig } from '../config'
import { UnauthenticatedError } from '../errors'

/** Who a verified access token speaks for. Ids stay strings: they reach SQL as text. */
export interface Caller {
  userId: string
  sessionId: string
}

export interface IssuedToken {
  token: string
  expiresInSeconds: number
}

export interface TokenService {
  issue(caller: Caller): Promise<IssuedToken>
  /** The caller the token names; `invalid_token` for anything else, whatever was wrong with it. */
  verify(token: string): Promise<Caller>
}

const TYPE = 'at+jwt'
const USER_ID = /^[1-9][0-9]{0,18}$/
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const invalidToken = () => new UnauthenticatedError('invalid_token', 'Could not validate credentials')

/** A key's id (`kid`): a digest prefix, so rotating keys never reveals one. */
function keyId(key: Uint8Array): string {
  return new Bun.CryptoHasher('sha256').update(key).digest('base64url').slice(0, 16)
}

/** A key as WebCrypto holds it: imported once, not at every token (a measured 1-2% of a request). */
const hmacKey = (key: Uint8Array) =>
  crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])

export function createTokenService(config: AuthConfig): TokenService {
  // Keys and ids are worked out once, not per token.
  const keys = new Map(config.secretKeys.map((key) => [keyId(key), hmacKey(key)]))
  const [signingId] = keys.keys()
  const signingKey = keys.get(signingId!)!
  const lifetimeSeconds = config.accessTokenMinutes * 60

  return {
    async issue({ userId, sessionId }) {
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: TYPE, kid: signingId })
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setSubject(userId)
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .setExpirationTime(`${lifetimeSeconds}s`)
        .sign(await signingKey)
      return { token, expiresInSeconds: lifetimeSeconds }
    },

    async verify(token) {
      try {
        const { payload } = await jwtVerify(
          token,
          // A token names its key; one without a known `kid` fails like a bad signature.
          (header) => {
            const key = header.kid === undefined ? undefined : keys.get(header.kid)
            if (!key) throw new errors.JWSSignatureVerificationFailed()
            return key
          },
          {
            algorithms: ['HS256'],
            typ: TYPE,
            issuer: config.issuer,
            audience: config.audience,
            requiredClaims: ['exp', 'sub', 'sid'],
          },
        )
        const { sub, sid } = payload
        if (typeof sub !== 'string' || !USER_ID.test(sub) || typeof sid !== 'string' || !SESSION_ID.test(sid)) {
          throw invalidToken()
        }
        return { userId: sub, sessionId: sid }
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof UnauthenticatedError) throw invalidToken()
        throw error
      }
    },
  }
}
