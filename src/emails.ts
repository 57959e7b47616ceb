// An email as the service accepts, stores and compares it. The rule is one regular expression,
// published as the request schema's `pattern`, so a client generated from the OpenAPI document
// agrees with the server; it is checked on the value as sent, which is then trimmed and
// NFC-normalised (case is left to the unique index, which ignores it). The request schema,
// logins, the throttle and the first superuser all read emails this one way.

export const normaliseEmail = (email: string) => email.normalize('NFC').trim()

/** At most this many characters (code points, as JSON Schema counts them), as sent. */
export const EMAIL_MAX_LENGTH = 254
/**
 * The longest an email can be once stored: NFC turns a character into at most three (U+1D160 and
 * the like), so an email sent within the limit may grow past it. Logins take emails this long.
 */
export const EMAIL_STORED_MAX_LENGTH = 3 * EMAIL_MAX_LENGTH

/**
 * What may appear nowhere in an address: whitespace and Unicode Cc, Cf, Zs, Zl, Zp and
 * Default_Ignorable_Code_Point (zero-width and bidi controls, tag characters: they would make a
 * look-alike of another account's email). Written out, not as `\p{...}`, so that engines without
 * Unicode property classes compile the pattern too; test/unit/emails.test.ts checks the list
 * against the properties of the running Unicode version.
 */
export const INVISIBLE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x0020],
  [0x007f, 0x00a0],
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x0600, 0x0605],
  [0x061c, 0x061c],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x0890, 0x0891],
  [0x08e2, 0x08e2],
  [0x115f, 0x1160],
  [0x1680, 0x1680],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x2000, 0x200f],
  [0x2028, 0x202f],
  [0x205f, 0x206f],
  [0x3000, 0x3000],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfffb],
  [0x110bd, 0x110bd],
  [0x110cd, 0x110cd],
  [0x13430, 0x1343f],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0000, 0xe0fff],
]

/** The whitespace that trimming removes (JavaScript's `trim`), every one of them also invisible above. */
const TRIMMED = '\\u0009-\\u000d\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff'

// Code points in the Basic Multilingual Plane as `\uXXXX`, which every engine reads; those above it
// as the characters themselves, as there is no escape for them that every engine reads.
const inClass = (c: number) => (c > 0xffff ? String.fromCodePoint(c) : `\\u${c.toString(16).padStart(4, '0')}`)
const INVISIBLE = INVISIBLE_RANGES.map(([from, to]) =>
  from === to ? inClass(from) : `${inClass(from)}-${inClass(to)}`,
).join('')

/**
 * Optional surrounding whitespace, then one `@`, a non-empty local part and a domain with a dot,
 * none of them holding an invisible character. Letters of every script are valid, as
 * internationalised addresses are real (RFC 6531).
 */
export const EMAIL_PATTERN = `^[${TRIMMED}]*[^@${INVISIBLE}]+@[^@.${INVISIBLE}]+(?:\\.[^@.${INVISIBLE}]+)+[${TRIMMED}]*$`
const EMAIL = new RegExp(EMAIL_PATTERN, 'u')

/** Characters as JSON Schema counts them: code points, a surrogate pair being one. */
export function codePoints(value: string): number {
  let n = value.length
  for (let i = 0; i < value.length - 1; i++) {
    const unit = value.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/** Whether `value`, as sent, is an email the service accepts. */
export const isEmail = (value: string) =>
  value.isWellFormed() && codePoints(value) <= EMAIL_MAX_LENGTH && EMAIL.test(value)
