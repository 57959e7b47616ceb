// An email as the service stores and compares it: trimmed and NFC-normalised (case is left to the
// unique index, which ignores it). The request schema, logins, the throttle and the first superuser
// all read emails this one way.
export const normaliseEmail = (email: string) => email.normalize('NFC').trim()
