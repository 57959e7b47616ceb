import type { PasswordHashConfig } from '../config'
import { Gate } from '../gate'
import { createThreadedArgon2id } from './argon2id-threads'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /**
   * Whether `password` matches `hash`. Without a hash (no such user) it checks against a dummy hash
   * made with the same parameters, so an unknown email takes as long as a wrong password.
   */
  verify(password: string, hash: string | undefined): Promise<boolean>
  /**
   * Whether a stored hash was made with other parameters than the configured ones: it should be
   * replaced at the next login, so that stored hashes follow the cost, and every account's check
   * takes as long as the dummy's.
   */
  needsRehash(hash: string): boolean
}

export type Argon2idOptions = { algorithm: 'argon2id'; memoryCost: number; timeCost: number }

export interface Argon2id {
  hash(password: string, options: Argon2idOptions): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
}

/**
 * argon2id (Bun.password's, on low-priority threads of its own, unless another is given), under a concurrency cap shared by hashing and
 * verifying: each holds `memoryKib` of memory for tens of milliseconds, so a burst of sign-ups and
 * logins waits (boundedly) instead of taking memory without bound; past the wait it is refused as
 * `hashing_busy`.
 */
export function createPasswordHasher(
  config: PasswordHashConfig,
  argon2id: Argon2id = createThreadedArgon2id({ threads: config.concurrency, nice: config.nice }),
): PasswordHasher {
  const gate = new Gate({
    permits: config.concurrency,
    maxWaiting: config.queueMax,
    maxWaitMs: config.queueTimeoutMs,
    busy: { code: 'hashing_busy', message: 'Too many sign-ups or logins at once, try again' },
  })
  const options = { algorithm: 'argon2id', memoryCost: config.memoryKib, timeCost: config.timeCost } as const
  // Made once, at start, with the real parameters; its password is random and never kept.
  const dummyHash = argon2id.hash(crypto.randomUUID(), options)
  const current = `$argon2id$v=19$m=${config.memoryKib},t=${config.timeCost},p=1$`
  return {
    needsRehash: (hash) => !hash.startsWith(current),
    hash: (password) => gate.run(() => argon2id.hash(password, options)),
    verify: (password, hash) =>
      gate.run(async () => {
        const matches = await argon2id.verify(password, hash ?? (await dummyHash))
        return hash !== undefined && matches
      }),
  }
}
