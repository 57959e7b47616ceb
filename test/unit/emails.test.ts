import { describe, expect, test } from 'bun:test'
import { codePoints, EMAIL_PATTERN, INVISIBLE_RANGES, isEmail } from '../../src/emails'

describe('the email rule', () => {
  test('its invisible ranges are exactly whitespace, Cc, Cf, Zs, Zl, Zp and Default_Ignorable_Code_Point in this Unicode version', () => {
    const property = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\s]/u
    const listed = (c: number) => INVISIBLE_RANGES.some(([from, to]) => c >= from && c <= to)
    const disagree: string[] = []
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue
      if (property.test(String.fromCodePoint(c)) !== listed(c)) disagree.push(c.toString(16))
    }
    expect(disagree).toEqual([])
  })

  test('is a pattern without surrogate escapes, read in Unicode mode (u or v) as JSON Schema reads patterns', () => {
    expect(EMAIL_PATTERN).not.toMatch(/\\u[dD][89a-fA-F]/)
    expect(() => new RegExp(EMAIL_PATTERN, 'u')).not.toThrow()
    expect(() => new RegExp(EMAIL_PATTERN, 'v')).not.toThrow()
    // Every invisible character is refused in the local part and in the domain; a letter is not.
    for (const [from, to] of INVISIBLE_RANGES) {
      for (const c of [from, to]) {
        const ch = String.fromCodePoint(c)
        expect({ c, local: isEmail(`a${ch}b@example.com`), domain: isEmail(`a@exa${ch}mple.com`) }).toEqual({
          c,
          local: false,
          domain: false,
        })
      }
    }
    expect(isEmail('ünïcödé@exämple.com')).toBe(true)
  })

  test('counts characters as JSON Schema does: a surrogate pair is one', () => {
    expect(codePoints('')).toBe(0)
    expect(codePoints('abc')).toBe(3)
    expect(codePoints('😀😀')).toBe(2)
    expect(codePoints('a\ud800')).toBe(2)
    expect(codePoints('\udc00\ud800')).toBe(2)
    expect(isEmail(`${'😀'.repeat(242)}@example.com`)).toBe(true) // 254 characters, 496 UTF-16 units
    expect(isEmail(`${'😀'.repeat(243)}@example.com`)).toBe(false)
  })
})
