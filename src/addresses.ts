// IP addresses in one spelling (IPv4 dotted, also when IPv4-mapped; IPv6 as RFC 5952 writes it), so
// one client is one key however it is written, and address ranges (TRUSTED_PROXIES).
import { isIPv4, isIPv6 } from 'node:net'

interface Parsed {
  value: bigint
  bits: 32 | 128
}

const ipv4Value = (text: string) => text.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n)

/** An IP address as a number and its width in bits, or undefined if it is not one. */
function parse(address: string): Parsed | undefined {
  const text = address.trim().replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text)
  if (mapped) return parse(mapped[1]!)
  if (isIPv4(text)) return { value: ipv4Value(text), bits: 32 }
  if (!isIPv6(text)) return undefined
  // A trailing dotted quad (`::1.2.3.4`) stands for the last two groups.
  const quad = /\d+\.\d+\.\d+\.\d+$/.exec(text)?.[0]
  const hex = quad
    ? text.replace(quad, `${(ipv4Value(quad) >> 16n).toString(16)}:${(ipv4Value(quad) & 0xffffn).toString(16)}`)
    : text
  const [head, tail] = hex.split('::') as [string, string | undefined]
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : [])
  const groups =
    tail === undefined
      ? groupsOf(head)
      : [...groupsOf(head), ...Array(8 - groupsOf(head).length - groupsOf(tail).length).fill('0'), ...groupsOf(tail)]
  return { value: groups.reduce((n, group) => (n << 16n) | BigInt(`0x${group}`), 0n), bits: 128 }
}

function format({ value, bits }: Parsed): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 255n).join('.')
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16))
  // RFC 5952: the longest run of two or more zero groups (the first, on a tie) becomes `::`.
  let best = { start: -1, length: 1 }
  for (let start = 0; start < 8; start++) {
    let length = 0
    while (start + length < 8 && groups[start + length] === '0') length++
    if (length > best.length) best = { start, length }
  }
  if (best.start === -1) return groups.join(':')
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`
}

/** The address in its one spelling; undefined if it is not an IP address. */
export function canonicalAddress(address: string): string | undefined {
  const parsed = parse(address)
  return parsed && format(parsed)
}

/**
 * What throttling counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would give it 2^64 tries). Anything else as it is.
 */
export function addressBlock(address: string): string {
  const parsed = parse(address)
  if (!parsed || parsed.bits === 32) return address
  return `${format({ value: (parsed.value >> 64n) << 64n, bits: 128 })}/64`
}

/** A test for an address (`10.0.0.1`) or a range (`10.0.0.0/8`, `fd00::/8`); undefined if `entry` is neither. */
export function addressMatcher(entry: string): ((address: string) => boolean) | undefined {
  const [base, length, ...rest] = entry.trim().split('/')
  const network = parse(base!)
  if (!network || rest.length > 0 || (length !== undefined && !/^\d{1,3}$/.test(length))) return undefined
  const prefix = length === undefined ? network.bits : Number(length)
  if (prefix > network.bits) return undefined
  const shift = BigInt(network.bits - prefix)
  return (address) => {
    const candidate = parse(address)
    return candidate?.bits === network.bits && candidate.value >> shift === network.value >> shift
  }
}
