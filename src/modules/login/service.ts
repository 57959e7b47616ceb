// Logging in and refreshing: what the login routes do, over the users, sessions and throttle
// repositories, the password hasher and the token service.
import { sweeperOf } from '../../db/pruning'
import { normaliseEmail } from '../../emails'
import { RejectedError } from '../../errors'
import type { PasswordHasher } from '../../security/passwords'
import type { TokenService } from '../../security/tokens'
import { newRefreshToken, type SessionOrigin, type SessionsRepository } from '../sessions/repository'
import type { UsersRepository } from '../users/repository'
import type { Token } from './model'
import type { LoginAttemptsRepository } from './repository'
import type { PasswordThrottle } from './throttle'

const incorrect = () => new RejectedError('incorrect_credentials', 'Incorrect email or password')

export interface LoginDependencies {
  users: UsersRepository
  sessions: SessionsRepository
  attempts: LoginAttemptsRepository
  throttle: PasswordThrottle
  passwords: PasswordHasher
  tokens: TokenService
}

export function createLoginService({ users, sessions, attempts, throttle, passwords, tokens }: LoginDependencies) {
  // Each login prunes its own address's old attempts; this sweeps what addresses that never came
  // back left, and ended sessions.
  const pruneNowAndThen = sweeperOf(attempts.pruneExpired, sessions.pruneEnded)

  /**
   * A hash made with other parameters than the configured ones, replaced by one of the same
   * password at the current cost; best-effort: a busy hasher or a concurrent change keeps the old.
   */
  const upgradeHash = async (userId: string, hash: string, password: string): Promise<string> => {
    if (!passwords.needsRehash(hash)) return hash
    try {
      const rehashed = await passwords.hash(password)
      return (await users.replaceHash(userId, hash, rehashed)) ? rehashed : hash
    } catch {
      return hash
    }
  }

  const pair = async (userId: string, sessionId: string, refreshToken: string): Promise<Token> => {
    const access = await tokens.issue({ userId, sessionId })
    return {
      access_token: access.token,
      token_type: 'bearer',
      expires_in: access.expiresInSeconds,
      refresh_token: refreshToken,
    }
  }

  return {
    /**
     * An unknown email, a wrong password and an inactive account take the same path and the same
     * time (a password is verified in every case) and get the same 400. Every attempt counts against
     * the throttle until it succeeds, so concurrent guesses cannot pass the limit.
     */
    async login(username: string, password: string, origin: SessionOrigin): Promise<Token> {
      pruneNowAndThen()
      const email = normaliseEmail(username)
      const user = await throttle.attempt(email, origin.clientAddress, async () => {
        const found = await users.findForLogin(email)
        const matches = await passwords.verify(password, found?.hashed_password)
        return matches && found?.is_active ? found : undefined
      })
      if (!user) throw incorrect()
      const verified = await upgradeHash(user.id, user.hashed_password, password)
      const refresh = newRefreshToken()
      // Undefined when the hash changed meanwhile (a new password; a deactivation or deletion also
      // fails). A concurrent login's rehash changes it too, for the same password: check that once.
      let sessionId = await sessions.start(user.id, verified, refresh, origin)
      if (sessionId === undefined) {
        const now = await users.findForLogin(email)
        if (
          now?.id === user.id &&
          now.hashed_password !== verified &&
          (await passwords.verify(password, now.hashed_password))
        ) {
          sessionId = await sessions.start(user.id, now.hashed_password, refresh, origin)
        }
      }
      if (sessionId === undefined) throw incorrect()
      return pair(user.id, sessionId, refresh.token)
    },

    async refresh(refreshToken: string, origin: SessionOrigin): Promise<Token> {
      const next = newRefreshToken()
      const { userId, sessionId } = await sessions.rotate(refreshToken, next, origin)
      return pair(userId, sessionId, next.token)
    },
  }
}

export type LoginService = ReturnType<typeof createLoginService>
