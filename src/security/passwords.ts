import type { PasswordHashConfig } from '../config'
import { Gate } from '../gate'

export interface PasswordHasher {
  hash(password: string): Promise<string>
}

type Argon2id = (
  password: string,
  options: { algorithm: 'argon2id'; memoryCost: number; timeCost: number },
) => Promise<string>

/**
 * argon2id (Bun.password's, unless another is given), under a concurrency cap: each hash holds
 * `memoryKib` of memory for tens of milliseconds, so a burst of sign-ups waits (boundedly) instead
 * of taking memory without bound; past the wait it is refused as `hashing_busy`.
 */
export function createPasswordHasher(
  config: PasswordHashConfig,
  argon2id: Argon2id = (password, options) => Bun.password.hash(password, options),
): PasswordHasher {
  const gate = new Gate({
    permits: config.concurrency,
    maxWaiting: config.queueMax,
    maxWaitMs: config.queueTimeoutMs,
    busy: { code: 'hashing_busy', message: 'Too many sign-ups at once, try again' },
  })
  const options = { algorithm: 'argon2id', memoryCost: config.memoryKib, timeCost: config.timeCost } as const
  return {
    hash: (password) => gate.run(() => argon2id(password, options)),
  }
}
