import { ConflictError, ForbiddenError, NotFoundError } from '../../errors'

export const userNotFound = () => new NotFoundError('user_not_found', 'User not found')

/** Another user has this email, in any letter case. */
export const emailTaken = () => new ConflictError('email_taken', 'Email already registered')

export const cannotDeleteSelf = () =>
  new ForbiddenError('cannot_delete_self', 'Super users are not allowed to delete themselves')

export const registrationClosed = () =>
  new ForbiddenError('registration_closed', 'Open user registration is forbidden on this server')
