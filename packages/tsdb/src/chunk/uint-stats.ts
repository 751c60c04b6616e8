import { MAX_SYMBOLS } from './huffman.js'
import { ESCAPE_Q, MAX_K, RAW_BITS } from './rice.js'
import { LONG, SHORT } from './uint-blocks.js'

/**
 * One pass of statistics over a stream of values below 2^31 (an Int32Array, padded with one
 * zero): per short block its zero count, sum and maximum, and the Huffman histogram with its
 * escapes; and the Rice cost sums of the parameters each block may pick.
 *
 * The arrays are module-level scratch, grown to the largest stream seen and reused: encoding is
 * synchronous and planning never re-enters itself, and allocating and clearing them per call
 * cost more than the planning of a small stream (a rollup table column has 10–300 values).
 */
export interface IntStats {
  blocks: number
  zeros: Int32Array
  sums: Float64Array
  max: number
  hist: Float64Array
  huffmanEscapes: Int32Array
  huffmanEscapeCount: number
  /** riceCosts[b * 32 + k]: Σ q (or the escape cost beyond 1 + k) of block b, parameter k. */
  riceCosts: Float64Array
}

const stats: IntStats = {
  blocks: 0,
  zeros: new Int32Array(64),
  sums: new Float64Array(64),
  max: 0,
  hist: new Float64Array(MAX_SYMBOLS),
  huffmanEscapes: new Int32Array(1024),
  huffmanEscapeCount: 0,
  riceCosts: new Float64Array(64 * 32),
}

let ints = new Int32Array(1024)

/** A scratch Int32Array of at least n + 1 entries (its contents are undefined). */
export function intScratch(n: number): Int32Array {
  if (ints.length < n + 1) ints = new Int32Array(Math.max(n + 1, ints.length * 2))
  return ints
}

function ensure(n: number, blocks: number): void {
  if (stats.zeros.length < blocks) {
    const size = Math.max(blocks, stats.zeros.length * 2)
    stats.zeros = new Int32Array(size)
    stats.sums = new Float64Array(size)
    stats.riceCosts = new Float64Array(size * 32)
  }
  if (stats.huffmanEscapes.length < n + 1) {
    stats.huffmanEscapes = new Int32Array(Math.max(n + 1, stats.huffmanEscapes.length * 2))
  }
}

/** Gathers the statistics of a[0..n) (a[n] must be 0) into the shared scratch. */
export function gatherStats(a: Int32Array, n: number): IntStats {
  const blocks = Math.ceil(n / SHORT)
  ensure(n, blocks)
  const { zeros, sums, hist, huffmanEscapes } = stats
  hist.fill(0)
  const top = MAX_SYMBOLS - 1
  let nh = 0
  let max = 0
  for (let b = 0; b < blocks; b++) {
    const s = b * SHORT
    const e = Math.min(n, s + SHORT)
    let z = 0
    let sum = 0
    let m = 0
    for (let i = s; i < e; i++) {
      const x = a[i] ?? 0
      if (x === 0) z++
      sum += x
      if (x > m) m = x
      if (x < top) hist[x] = (hist[x] ?? 0) + 1
      else {
        hist[top] = (hist[top] ?? 0) + 1
        huffmanEscapes[nh++] = x - top
      }
    }
    zeros[b] = z
    sums[b] = sum
    if (m > max) max = m
  }
  stats.blocks = blocks
  stats.max = max
  stats.huffmanEscapeCount = nh
  riceSums(a, n, stats)
  return stats
}

export function guessK(sum: number, count: number): number {
  const mean = sum / Math.max(1, count)
  return mean < 1 ? 0 : Math.min(MAX_K, Math.floor(Math.log2(mean)))
}

/**
 * Per short block b and parameter k ≤ 31, the sum over its values of q (or, for an escape,
 * ESCAPE_Q + RAW_BITS - 1 - k) into riceCosts[b * 32 + k], for the parameters its own mean and
 * its long block's mean suggest.
 */
function riceSums(a: Int32Array, n: number, st: IntStats): void {
  const blocks = st.blocks
  const acc = st.riceCosts
  const per = LONG / SHORT
  for (let g = 0; g < blocks; g += per) {
    const ge = Math.min(blocks, g + per)
    let gsum = 0
    for (let b = g; b < ge; b++) gsum += st.sums[b] ?? 0
    const gk = guessK(gsum, Math.min(n, ge * SHORT) - g * SHORT)
    for (let b = g; b < ge; b++) {
      const s = b * SHORT
      const e = Math.min(n, s + SHORT)
      if ((st.zeros[b] ?? 0) === e - s) continue
      const bk = guessK(st.sums[b] ?? 0, e - s)
      const lo = Math.max(0, Math.min(bk, gk) - 1)
      const hi = Math.min(31, Math.max(bk, gk) + 1)
      for (let k0 = lo; k0 <= hi; k0 += 4) {
        addRiceSums(a, s, e, k0, Math.min(hi, k0 + 3), acc, b * 32)
      }
    }
  }
}

/** acc[at + k] for k in [k0, k1], k1 - k0 ≤ 3, in one pass. */
function addRiceSums(
  a: Int32Array,
  s: number,
  e: number,
  k0: number,
  k1: number,
  acc: Float64Array,
  at: number,
): void {
  const ka = k0
  const kb = Math.min(k0 + 1, k1)
  const kc = Math.min(k0 + 2, k1)
  const kd = k1
  const ea = ESCAPE_Q + RAW_BITS - 1 - ka
  const eb = ESCAPE_Q + RAW_BITS - 1 - kb
  const ec = ESCAPE_Q + RAW_BITS - 1 - kc
  const ed = ESCAPE_Q + RAW_BITS - 1 - kd
  let sa = 0
  let sb = 0
  let sc = 0
  let sd = 0
  for (let i = s; i < e; i++) {
    const v = a[i] ?? 0
    const qa = v >>> ka
    const qb = v >>> kb
    const qc = v >>> kc
    const qd = v >>> kd
    sa += qa < ESCAPE_Q ? qa : ea
    sb += qb < ESCAPE_Q ? qb : eb
    sc += qc < ESCAPE_Q ? qc : ec
    sd += qd < ESCAPE_Q ? qd : ed
  }
  acc[at + ka] = sa
  acc[at + kb] = sb
  acc[at + kc] = sc
  acc[at + kd] = sd
}

/** The best Rice parameter (guess ± 1, the first of the cheapest) for a[0..count) and its cost. */
export function riceOfInts(a: Int32Array, count: number): [number, number] {
  let sum = 0
  for (let i = 0; i < count; i++) sum += a[i] ?? 0
  const guess = guessK(sum, count)
  let bestK = 0
  let bestBits = Infinity
  for (let k = Math.max(0, guess - 1); k <= Math.min(31, guess + 1); k++) {
    const e = ESCAPE_Q + RAW_BITS - 1 - k
    let bits = count * (1 + k)
    for (let i = 0; i < count; i++) {
      const q = (a[i] ?? 0) >>> k
      bits += q < ESCAPE_Q ? q : e
    }
    if (bits < bestBits) {
      bestBits = bits
      bestK = k
    }
  }
  return [bestK, bestBits]
}
