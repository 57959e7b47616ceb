// Tokens for the benchmark's requests, made the way a login makes them (a session row, a signed
// access token) but without a password check per token: the superuser, a sample of owners with
// their items, and fresh refresh tokens for each refresh run (each works once).
import postgres from 'postgres'
import { loadConfig } from '../src/config'
import { createDatabase } from '../src/db/database'
import { createSessionsRepository, newRefreshToken } from '../src/modules/sessions/repository'
import { createTokenService } from '../src/security/tokens'
import { SEED } from './database'

export const BENCH_SECRET_KEY = 'bench-only-secret-key-0123456789abcdefghij'

export interface Owner {
  token: string
  itemIds: number[]
}

export interface BenchAuth {
  superuserToken: string
  /** The superuser's session, for the database ceiling's statement. */
  superuser: { userId: string; sessionId: string }
  owners: Owner[]
  /** `count` refresh tokens of sessions of their own. */
  refreshTokens(count: number): Promise<string[]>
  close(): Promise<void>
}

export async function createBenchAuth(url: string, hash: string, ownerCount = 512): Promise<BenchAuth> {
  const config = loadConfig({ DATABASE_URL: url, SECRET_KEY: BENCH_SECRET_KEY })
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  const sessions = createSessionsRepository(createDatabase(sql, config.database), { lifetimeDays: 30 })
  const tokens = createTokenService(config.auth)
  const origin = { userAgent: 'bench', clientAddress: '127.0.0.1' }
  const signIn = async (userId: number) => {
    const refresh = newRefreshToken()
    const sessionId = (await sessions.start(String(userId), hash, refresh, origin))!
    const { token } = await tokens.issue({ userId: String(userId), sessionId })
    return { token, sessionId, refreshToken: refresh.token }
  }
  const admin = await signIn(1)
  const owners: Owner[] = []
  for (let i = 0; i < ownerCount; i++) {
    const userId = 2 + Math.floor(Math.random() * (SEED.users - 1))
    const { token } = await signIn(userId)
    owners.push({ token, itemIds: Array.from({ length: SEED.itemsPerUser }, (_, k) => userId + k * SEED.users) })
  }
  return {
    superuserToken: admin.token,
    superuser: { userId: '1', sessionId: admin.sessionId },
    owners,
    async refreshTokens(count) {
      const made: string[] = []
      for (let i = 0; i < count; i++) made.push((await signIn(2 + (i % (SEED.users - 1)))).refreshToken)
      return made
    },
    close: () => sql.end(),
  }
}
