// FIRST_SUPERUSER_EMAIL/PASSWORD: the account that can make every other, created at start when no
// account has that email. Several instances starting at once are safe: the unique index decides.
import { normaliseEmail } from '../../emails'
import type { Logger } from '../../logger'
import type { PasswordHasher } from '../../security/passwords'
import type { UsersRepository } from './repository'

export async function ensureFirstSuperuser(
  account: { email: string; password: string },
  { users, passwords, logger }: { users: UsersRepository; passwords: PasswordHasher; logger: Logger },
): Promise<void> {
  const email = normaliseEmail(account.email)
  const outcome = await users.ensureSuperuser(email, await passwords.hash(account.password))
  if (outcome === 'created') logger.info('first superuser created', { email })
  else if (outcome === 'not-superuser') {
    logger.warn('FIRST_SUPERUSER_EMAIL belongs to an existing account that is not a superuser; left as it is', {
      email,
    })
  }
}
