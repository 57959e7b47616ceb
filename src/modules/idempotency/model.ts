import { t } from 'elysia'

/** How long a key is remembered: a retry within it gets the first answer again. */
export const KEY_LIFETIME_HOURS = 24

// A Structured Field string, as the IETF draft writes it (`"..."`), or the same characters bare, as
// Stripe and most clients send them: 1 to 255 visible ASCII characters other than `"` and `\`.
const KEY_PATTERN = '^(?:"[!#-\\[\\]-~]{1,255}"|[!#-\\[\\]-~]{1,255})$'

export const IdempotencyHeaders = t.Object({
  'idempotency-key': t.Optional(
    t.String({
      pattern: KEY_PATTERN,
      description: `Makes this request safe to retry (IETF draft-ietf-httpapi-idempotency-key-header): for ${KEY_LIFETIME_HOURS} hours, the same key with the same body answers the first response again (with \`Idempotent-Replayed: true\`) instead of creating a second one; with another body it is 422 \`idempotency_key_reused\`, and while the first request is still running, 409 \`idempotency_key_in_progress\`. A random UUID per operation is a good key: \`"8e03978e-40d5-43e8-bc93-6894a57f9324"\`.`,
    }),
  ),
})

/** The key without the quotes of its Structured Field form: `"abc"` and `abc` are one key. */
export const keyOf = (header: string | undefined) => header?.replace(/^"(.*)"$/, '$1')

/** Set on an answer that is the stored answer of an earlier request with the same key. */
export const REPLAYED_HEADER = 'Idempotent-Replayed'

/** The headers of a created resource's answer: where it is, and whether this is a replay. */
export const createdHeaders = (location: string, replayed: boolean): Record<string, string> =>
  replayed ? { location, [REPLAYED_HEADER.toLowerCase()]: 'true' } : { location }
