/** Decodes an IEEE 754 binary16 value (RFC 8949 Appendix D). */
export function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f
  const mantissa = half & 0x3ff
  const sign = half & 0x8000 ? -1 : 1
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** The binary16 bits of `x` when it is exactly representable as a half float, else undefined. */
export function numberToHalf(x: number): number | undefined {
  if (Number.isNaN(x)) return 0x7e00
  if (x === Infinity) return 0x7c00
  if (x === -Infinity) return 0xfc00
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0
  const abs = Math.abs(x)
  if (abs === 0) return sign
  // Subnormal halves are multiples of 2^-24 below 2^-14.
  if (abs < 2 ** -14) {
    const m = abs / 2 ** -24
    return Number.isInteger(m) ? sign | m : undefined
  }
  const exponent = Math.floor(Math.log2(abs))
  if (exponent > 15) return undefined
  const mantissa = (abs / 2 ** exponent - 1) * 1024
  if (!Number.isInteger(mantissa) || mantissa >= 1024) return undefined
  const bits = sign | ((exponent + 15) << 10) | mantissa
  // log2 can be off by one near powers of two; accept only an exact round trip.
  return halfToNumber(bits) === x ? bits : undefined
}
