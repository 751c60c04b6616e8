import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'

/**
 * Rice codes (Golomb codes with a power-of-two divisor 2^k): q = v >> k as q one-bits and a
 * zero, then the low k bits. A quotient of ESCAPE_Q or more is written as ESCAPE_Q one-bits and
 * the value in RAW_BITS bits, so no unary code is longer than ESCAPE_Q bits (which also bounds
 * what a damaged stream can make the decoder do). Rice, "Some practical universal noiseless
 * coding techniques", JPL 79-22, 1979.
 */
export const MAX_K = 53
export const ESCAPE_Q = 24
export const RAW_BITS = 53

/** POW2[k] = 2^k for k ≤ 53. */
export const POW2: readonly number[] = Array.from({ length: 54 }, (_, k) => 2 ** k)

export function pow2(k: number): number {
  return POW2[k] ?? 2 ** k
}

/** Bits to write `v` with Rice parameter k. */
export function riceCost(v: number, k: number): number {
  const q = k === 0 ? v : Math.floor(v / pow2(k))
  return q < ESCAPE_Q ? q + 1 + k : ESCAPE_Q + RAW_BITS
}

/** The best Rice parameter for values[start..end) and its cost in bits. */
export function bestRice(values: Float64Array, start: number, end: number): [number, number] {
  let sum = 0
  let max = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    sum += v
    if (v > max) max = v
  }
  return bestRiceOf(values, start, end, sum, max)
}

/**
 * bestRice given the sum and maximum of the values: tries the parameter the mean suggests and
 * its two neighbours, in one pass with 32-bit shifts when every value fits in 32 bits.
 */
export function bestRiceOf(
  values: Float64Array,
  start: number,
  end: number,
  sum: number,
  max: number,
): [number, number] {
  const n = end - start
  const mean = sum / Math.max(1, n)
  const guess = mean < 1 ? 0 : Math.min(MAX_K, Math.floor(Math.log2(mean)))
  const k0 = Math.max(0, guess - 1)
  const k2 = Math.min(MAX_K, guess + 1)
  const k1 = Math.min(k0 + 1, k2)
  let a0 = 0
  let a1 = 0
  let a2 = 0
  if (max <= 0xffffffff && k2 <= 31) {
    // Per value q or, for an escape, the cost beyond 1 + k: ESCAPE_Q + RAW_BITS - 1 - k.
    const e0 = ESCAPE_Q + RAW_BITS - 1 - k0
    const e1 = ESCAPE_Q + RAW_BITS - 1 - k1
    const e2 = ESCAPE_Q + RAW_BITS - 1 - k2
    for (let i = start; i < end; i++) {
      const v = values[i] ?? 0
      const q0 = v >>> k0
      const q1 = v >>> k1
      const q2 = v >>> k2
      a0 += q0 < ESCAPE_Q ? q0 : e0
      a1 += q1 < ESCAPE_Q ? q1 : e1
      a2 += q2 < ESCAPE_Q ? q2 : e2
    }
    a0 += n * (1 + k0)
    a1 += n * (1 + k1)
    a2 += n * (1 + k2)
  } else {
    for (let i = start; i < end; i++) {
      const v = values[i] ?? 0
      a0 += riceCost(v, k0)
      a1 += riceCost(v, k1)
      a2 += riceCost(v, k2)
    }
  }
  // The first of the smallest, as a scan from k0 upwards finds it.
  if (a1 < a0) return a2 < a1 ? [k2, a2] : [k1, a1]
  return a2 < a0 ? [k2, a2] : [k0, a0]
}

export function writeRice(w: BitWriter, v: number, k: number): void {
  if (v <= 0xffffffff && k <= 31) {
    const q = v >>> k
    if (q < ESCAPE_Q && q + 1 + k <= 32) {
      // q ones, a zero and the low k bits in one write.
      const scale = pow2(k)
      w.write((pow2(q) - 1) * 2 * scale + (v - q * scale), q + 1 + k)
      return
    }
  }
  const q = k === 0 ? v : Math.floor(v / pow2(k))
  if (q >= ESCAPE_Q) {
    w.write(pow2(ESCAPE_Q) - 1, ESCAPE_Q)
    w.writeLong(v, RAW_BITS)
    return
  }
  w.write((pow2(q) - 1) * 2, q + 1)
  if (k > 0) w.writeLong(v - q * pow2(k), k)
}

/** Reads one Rice-coded value (the slow path, used by SPARSE blocks). */
export function readRice(r: BitReader, k: number): number {
  const q = Math.clz32(~r.peek())
  if (q >= ESCAPE_Q) {
    r.pos += ESCAPE_Q
    return r.readLong(RAW_BITS)
  }
  r.pos += q + 1
  return q * pow2(k) + r.readLong(k)
}
