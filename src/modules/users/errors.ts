import { ConflictError, NotFoundError } from '../../errors'

export const userNotFound = () => new NotFoundError('user_not_found', 'User not found')

/** Another user has this email, in any letter case. */
export const emailTaken = () => new ConflictError('email_taken', 'Email already registered')
