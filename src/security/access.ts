// What a caller may do, once the database has said who it is now: the pieces every module's
// statement and the HTTP edge's early check share. No SQL here (modules/sessions/repository.ts
// finds the caller), no HTTP (src/http/error-handler.ts maps the errors).
import { ForbiddenError } from '../errors'

/** The caller as a statement found it: its session live, its user active, and its role. */
export interface LiveCaller {
  id: string
  isSuperuser: boolean
}

export const notEnoughPrivileges = () => new ForbiddenError('forbidden', "The user doesn't have enough privileges")

/** Throws 403 unless the caller is a superuser. */
export function requireSuperuser(caller: LiveCaller): void {
  if (!caller.isSuperuser) throw notEnoughPrivileges()
}

/** Throws 403 unless the caller is the user `userId` itself or a superuser. */
export function requireSelfOrSuperuser(caller: LiveCaller, userId: string): void {
  if (!caller.isSuperuser && caller.id !== userId) throw notEnoughPrivileges()
}
