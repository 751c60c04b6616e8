/** Character codes the line protocol grammar names. */
export const ch = {
  tab: 0x09,
  lf: 0x0a,
  cr: 0x0d,
  space: 0x20,
  quote: 0x22,
  hash: 0x23,
  plus: 0x2b,
  comma: 0x2c,
  minus: 0x2d,
  dot: 0x2e,
  zero: 0x30,
  nine: 0x39,
  equals: 0x3d,
  upperE: 0x45,
  upperF: 0x46,
  upperT: 0x54,
  backslash: 0x5c,
  lowerE: 0x65,
  lowerF: 0x66,
  lowerI: 0x69,
  lowerT: 0x74,
  lowerU: 0x75,
  bom: 0xfeff,
} as const

/**
 * The grammar's `nonprintable_char` (U+0000..U+001F and U+007F): never allowed in names, not even
 * escaped (influxdata/line-protocol `line-protocol.ebnf`).
 */
export function isControl(c: number): boolean {
  return (c >= 0 && c < 0x20) || c === 0x7f
}

export function isDigit(c: number): boolean {
  return c >= ch.zero && c <= ch.nine
}

/** `U+0009`-style name of a code point. */
export function codePointName(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`
}

/** The UTF-8 length of `s` (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8ByteLength(s: string): number {
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/** True when `s` is longer than `max` UTF-8 bytes; cheap when `s` is far too long. */
export function exceedsUtf8Bytes(s: string, max: number): boolean {
  // Every UTF-16 unit is at least one UTF-8 byte, and at most three.
  if (s.length > max) return true
  if (s.length * 3 <= max) return false
  return utf8ByteLength(s) > max
}

/** The index of the first unpaired surrogate in `s`, or -1 when `s` is well-formed Unicode. */
export function findLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) i++
    else return i
  }
  return -1
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}

/** `s` cut to a length fit for an error message. */
export function excerpt(s: string, max = 40): string {
  return JSON.stringify(s.length <= max ? s : `${s.slice(0, max)}…`)
}
