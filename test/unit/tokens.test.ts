// Access tokens on their own: what is signed, and that keys rotate (the first signs, any verifies).
import { describe, expect, test } from 'bun:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { loadConfig } from '../../src/config'
import { UnauthenticatedError } from '../../src/errors'
import { createTokenService } from '../../src/security/tokens'

const NEW_KEY = 'n'.repeat(32)
const OLD_KEY = 'o'.repeat(32)
const caller = { userId: '42', sessionId: '0b6f1b53-3d4e-4c8e-9a51-2f1f3f0a9c11' }
const service = (keys: string, env: Record<string, string> = {}) =>
  createTokenService(loadConfig({ SECRET_KEY: keys, ...env }).auth)

describe('access tokens', () => {
  test('an at+jwt with the configured lifetime, naming the signing key; verify gives the caller back', async () => {
    const tokens = service(NEW_KEY, { ACCESS_TOKEN_EXPIRE_MINUTES: '5' })
    const { token, expiresInSeconds } = await tokens.issue(caller)
    expect(expiresInSeconds).toBe(300)
    const claims = decodeJwt(token)
    expect(claims.exp! - claims.iat!).toBe(300)
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: expect.any(String) })
    expect(await tokens.verify(token)).toEqual(caller)
    // Each token is unique, even within one second.
    expect((await tokens.issue(caller)).token).not.toBe(token)
  })

  test('rotation: tokens signed with the old key still verify once a new key is first; unlisted keys do not', async () => {
    const before = service(OLD_KEY)
    const during = service(`${NEW_KEY},${OLD_KEY}`)
    const after = service(NEW_KEY)
    const old = (await before.issue(caller)).token
    const fresh = (await during.issue(caller)).token
    expect(await during.verify(old)).toEqual(caller)
    expect(await after.verify(fresh)).toEqual(caller)
    expect(decodeProtectedHeader(fresh).kid).toBe(decodeProtectedHeader((await after.issue(caller)).token).kid)
    expect(decodeProtectedHeader(fresh).kid).not.toBe(decodeProtectedHeader(old).kid)
    const refused = await after.verify(old).catch((error) => error)
    expect(refused).toBeInstanceOf(UnauthenticatedError)
    expect(refused.code).toBe('invalid_token')
  })

  test('the kid reveals nothing of the key', async () => {
    const { token } = await service(NEW_KEY).issue(caller)
    const kid = decodeProtectedHeader(token).kid!
    expect(NEW_KEY).not.toContain(kid)
    expect(Buffer.from(NEW_KEY).toString('base64url')).not.toContain(kid)
  })
})
