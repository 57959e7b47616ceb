// IP addresses in one spelling, IPv6 /64 blocks for throttling, and TRUSTED_PROXIES ranges.
import { describe, expect, test } from 'bun:test'
import { addressBlock, addressMatcher, canonicalAddress } from '../../src/addresses'

describe('canonicalAddress', () => {
  test.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s is %s', (given, canonical) => {
    expect(canonicalAddress(given)).toBe(canonical)
  })

  test.each(['unknown', '', '300.1.1.1', '1.2.3', '2001:db8::1::2', 'proxy.internal'])(
    '%j is not an address',
    (given) => {
      expect(canonicalAddress(given)).toBeUndefined()
    },
  )
})

describe('addressBlock', () => {
  test('an IPv4 address is its own block; an IPv6 address counts as its /64', () => {
    expect(addressBlock('192.0.2.7')).toBe('192.0.2.7')
    expect(addressBlock('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(addressBlock('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(addressBlock('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64')
    expect(addressBlock('unknown')).toBe('unknown')
  })
})

describe('addressMatcher', () => {
  test('an address matches itself in any spelling; a range matches what is inside it', () => {
    expect(addressMatcher('2001:DB8::1')!('2001:db8::1')).toBe(true)
    expect(addressMatcher('192.0.2.7')!('::ffff:192.0.2.7')).toBe(true)
    const tenSlash8 = addressMatcher('10.0.0.0/8')!
    expect(tenSlash8('10.255.1.2')).toBe(true)
    expect(tenSlash8('11.0.0.1')).toBe(false)
    expect(tenSlash8('::ffff:10.1.1.1')).toBe(true)
    const ula = addressMatcher('fd00::/8')!
    expect(ula('fd12:3456::1')).toBe(true)
    expect(ula('fe80::1')).toBe(false)
    expect(ula('10.0.0.1')).toBe(false)
    expect(addressMatcher('0.0.0.0/0')!('203.0.113.9')).toBe(true)
  })

  test.each(['proxy.internal', '10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/8/8', '::/129', ''])('%j is refused', (entry) => {
    expect(addressMatcher(entry)).toBeUndefined()
  })
})
