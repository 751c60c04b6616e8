/**
 * Hex as the conformance cases write it: pairs of digits, spaces anywhere, `xx` for any one byte,
 * `*` for any run of bytes (packet patterns only).
 */
export type HexPattern = readonly (number | null | '*')[]

/** Parses `"30 05 00 01 61 xx"`; `xx` becomes null, `*` stays `'*'`. */
export function parseHexPattern(hex: string): HexPattern {
  const s = hex.replace(/\s+/g, '').toLowerCase()
  const out: (number | null | '*')[] = []
  for (let i = 0; i < s.length;) {
    if (s[i] === '*') {
      out.push('*')
      i += 1
      continue
    }
    const pair = s.slice(i, i + 2)
    if (pair === 'xx') out.push(null)
    else if (/^[0-9a-f]{2}$/.test(pair)) out.push(Number.parseInt(pair, 16))
    else throw new Error(`"${pair}" is not a hex byte in "${hex}"`)
    i += 2
  }
  return out
}

/** True when `bytes` matches `pattern` from its start (a trailing remainder is allowed when `prefix`). */
export function globMatch(pattern: HexPattern, bytes: Uint8Array, prefix: boolean): boolean {
  const go = (p: number, b: number): boolean => {
    if (p === pattern.length) return prefix || b === bytes.length
    const want = pattern[p]
    if (want === '*') {
      for (let k = b; k <= bytes.length; k++) if (go(p + 1, k)) return true
      return false
    }
    if (b >= bytes.length) return false
    return (want === null || want === bytes[b]) && go(p + 1, b + 1)
  }
  return go(0, 0)
}

/** Bytes from hex (no wildcards) or a Buffer as is. */
export function toBuffer(data: string | Buffer): Buffer {
  if (typeof data !== 'string') return data
  const pattern = parseHexPattern(data)
  if (pattern.some((b) => typeof b !== 'number'))
    throw new Error(`cannot send a wildcard: "${data}"`)
  return Buffer.from(pattern as number[])
}

/** `30 05 00 01 61`, cut after `max` bytes. */
export function formatHex(bytes: Uint8Array, max = 96): string {
  const shown = [...bytes.subarray(0, max)].map((b) => b.toString(16).padStart(2, '0')).join(' ')
  return bytes.length > max ? `${shown} … (${String(bytes.length)} bytes)` : shown
}
