import {
  BASE,
  MIN_PAIR_VALUES,
  PAIR_SYMBOLS,
  pairPlanOf,
  planPairs,
  type PairPlan,
} from './pair-huffman.js'
import {
  huffmanPlanOf,
  MAX_SYMBOLS,
  MIN_HUFFMAN_VALUES,
  planHuffman,
  type HuffmanPlan,
} from './huffman.js'
import { bestRice, bestRiceOf, ESCAPE_Q, MAX_K, RAW_BITS } from './rice.js'

/**
 * Planning for the integer coder (uint-coder.ts, which documents the layout): the exact size of
 * every way to code a stream, and the smallest. Streams whose values all fit in 31 bits (nearly
 * all of them) are planned from an Int32Array copy in two passes: one gathers per-block sums,
 * zero counts and maxima with the Huffman and pair histograms, the other the Rice costs of the
 * parameters both block sizes may pick. The result is the one the general planner finds.
 */
export const BLOCK_SIZES = [128, 1024] as const
export const HUFFMAN = 2
export const PAIRS = 3
const PAIR_TABLE_BITS = 206
export const MODE_BITS = 6
export const MODE_ZERO = 62
export const MODE_SPARSE = 63
export const KR_BITS = 4
const MAX_KR = 15
const SHORT = 128
const LONG = 1024
const INT_LIMIT = 2147483647

/** How one block is written. */
export interface BlockPlan {
  mode: number
  bits: number
  kr: number
  kv: number
  /** SPARSE: zero runs and the following non-zero values - 1, interleaved. */
  pairs: Float64Array | undefined
}

/** How a stream is written: Rice blocks (sizeIndex 0, 1), HUFFMAN or PAIRS. */
export interface StreamPlan {
  sizeIndex: number
  bits: number
  blocks: BlockPlan[]
  huffman?: HuffmanPlan
  pairs?: PairPlan
}

function zeroBlock(): BlockPlan {
  return { mode: MODE_ZERO, bits: MODE_BITS, kr: 0, kv: 0, pairs: undefined }
}

function planSparse(
  values: Float64Array | Int32Array,
  start: number,
  end: number,
  zeros: number,
): BlockPlan {
  const nonzeroCount = end - start - zeros
  const runs = new Float64Array(nonzeroCount + 1)
  const nonzero = new Float64Array(nonzeroCount)
  let r = 0
  let run = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    if (v === 0) {
      run++
    } else {
      runs[r] = run
      nonzero[r++] = v - 1
      run = 0
    }
  }
  const runCount = run > 0 ? r + 1 : r
  if (run > 0) runs[r] = run
  const [kr, runBits] = bestRice(runs, 0, runCount)
  const [kv, valueBits] = bestRice(nonzero, 0, r)
  const pairs = new Float64Array(runCount + r)
  for (let j = 0, p = 0; j < runCount; j++) {
    pairs[p++] = runs[j] ?? 0
    if (j < r) pairs[p++] = nonzero[j] ?? 0
  }
  const fits = kr <= MAX_KR
  const bits = fits ? MODE_BITS + KR_BITS + MODE_BITS + runBits + valueBits : Infinity
  return { mode: MODE_SPARSE, bits, kr, kv, pairs }
}

/** The smaller of Rice with parameter k (costing riceBits) and SPARSE for a block with zeros. */
function riceOrSparse(
  values: Float64Array | Int32Array,
  start: number,
  end: number,
  zeros: number,
  k: number,
  riceBits: number,
): BlockPlan {
  const rice = { mode: k, bits: MODE_BITS + riceBits, kr: 0, kv: 0, pairs: undefined }
  if (zeros * 2 < end - start) return rice
  const sparse = planSparse(values, start, end, zeros)
  return sparse.bits < rice.bits ? sparse : rice
}

function planBlock(values: Float64Array, start: number, end: number): BlockPlan {
  let zeros = 0
  let sum = 0
  let max = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    if (v === 0) zeros++
    sum += v
    if (v > max) max = v
  }
  if (zeros === end - start) return zeroBlock()
  const [k, riceBits] = bestRiceOf(values, start, end, sum, max)
  return riceOrSparse(values, start, end, zeros, k, riceBits)
}

/** Huffman, then pairs, where they can beat `best` (a Huffman code costs ≥ 1 bit a value). */
function tryHuffmanAndPairs(
  best: StreamPlan,
  n: number,
  huffman: () => HuffmanPlan | undefined,
  pairs: () => PairPlan | undefined,
): StreamPlan {
  const h = best.bits > n ? huffman() : undefined
  if (h !== undefined && h.bits < best.bits) {
    best = { sizeIndex: HUFFMAN, bits: h.bits, blocks: [], huffman: h }
  }
  const p = best.bits > n / 2 + PAIR_TABLE_BITS ? pairs() : undefined
  if (p !== undefined && p.bits < best.bits) {
    best = { sizeIndex: PAIRS, bits: p.bits, blocks: [], pairs: p }
  }
  return best
}

/** The general planner, for streams with values of 31 bits or more. */
function planStreamFloat(values: Float64Array, start: number, end: number): StreamPlan {
  let best: StreamPlan = { sizeIndex: 0, bits: Infinity, blocks: [] }
  for (let sizeIndex = 0; sizeIndex < BLOCK_SIZES.length; sizeIndex++) {
    const size = BLOCK_SIZES[sizeIndex] ?? SHORT
    const plans: BlockPlan[] = []
    let bits = 0
    for (let b = start; b < end && bits < best.bits; b += size) {
      const plan = planBlock(values, b, Math.min(end, b + size))
      plans.push(plan)
      bits += plan.bits
    }
    if (bits < best.bits) best = { sizeIndex, bits, blocks: plans }
    if (end - start <= size) break
  }
  return tryHuffmanAndPairs(
    best,
    end - start,
    () => planHuffman(values, start, end),
    () => planPairs(values, start, end),
  )
}

/** Plans values[start..end) (unsigned integers below 2^53). */
export function planStream(values: Float64Array, start: number, end: number): StreamPlan {
  const n = end - start
  // One zero of padding lets the pair histogram read past an odd last value.
  const ints = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) {
    const v = values[start + i] ?? 0
    if (v > INT_LIMIT) return planStreamFloat(values, start, end)
    ints[i] = v
  }
  return planStreamInt(ints, n)
}

function guessK(sum: number, count: number): number {
  const mean = sum / Math.max(1, count)
  return mean < 1 ? 0 : Math.min(MAX_K, Math.floor(Math.log2(mean)))
}

/** Block sums, zero counts and maxima, the Huffman and pair histograms and their escapes. */
interface IntStats {
  zeros: Int32Array
  sums: Float64Array
  maxima: Int32Array
  max: number
  hist: Float64Array
  huffmanEscapes: Int32Array
  huffmanEscapeCount: number
  pairHist: Float64Array
  pairEscapes: Int32Array
  pairEscapeCount: number
}

function gatherStats(a: Int32Array, n: number): IntStats {
  const blocks = Math.ceil(n / SHORT)
  const zeros = new Int32Array(blocks)
  const sums = new Float64Array(blocks)
  const maxima = new Int32Array(blocks)
  const top = MAX_SYMBOLS - 1
  const hist = new Float64Array(MAX_SYMBOLS)
  const pairHist = new Float64Array(PAIR_SYMBOLS)
  const huffmanEscapes = new Int32Array(n + 1)
  const pairEscapes = new Int32Array(n + 1)
  const esc = PAIR_SYMBOLS - 1
  let nh = 0
  let np = 0
  let max = 0
  for (let b = 0; b < blocks; b++) {
    const s = b * SHORT
    const e = Math.min(n, s + SHORT)
    let z = 0
    let sum = 0
    let m = 0
    for (let i = s; i < e; i += 2) {
      const x = a[i] ?? 0
      const y = a[i + 1] ?? 0
      if (x === 0) z++
      if (y === 0) z++
      sum += x + y
      if (x > m) m = x
      if (y > m) m = y
      if (x < top) hist[x] = (hist[x] ?? 0) + 1
      else {
        hist[top] = (hist[top] ?? 0) + 1
        huffmanEscapes[nh++] = x - top
      }
      if (y < top) hist[y] = (hist[y] ?? 0) + 1
      else {
        hist[top] = (hist[top] ?? 0) + 1
        huffmanEscapes[nh++] = y - top
      }
      if (x < BASE && y < BASE) {
        const sym = x * BASE + y
        pairHist[sym] = (pairHist[sym] ?? 0) + 1
      } else {
        pairHist[esc] = (pairHist[esc] ?? 0) + 1
        pairEscapes[np++] = x
        pairEscapes[np++] = y
      }
    }
    if (((e - s) & 1) === 1) {
      // The padding zero is not a value.
      z--
      hist[0] = (hist[0] ?? 0) - 1
    }
    zeros[b] = z
    sums[b] = sum
    maxima[b] = m
    if (m > max) max = m
  }
  return {
    zeros,
    sums,
    maxima,
    max,
    hist,
    huffmanEscapes,
    huffmanEscapeCount: nh,
    pairHist,
    pairEscapes,
    pairEscapeCount: np,
  }
}

/**
 * Per short block b and parameter k ≤ 31, the sum over its values of q (or, for an escape,
 * ESCAPE_Q + RAW_BITS - 1 - k) into acc[b * 32 + k], for the parameters its own mean and its
 * long block's mean suggest.
 */
function riceSums(a: Int32Array, n: number, st: IntStats, acc: Float64Array): void {
  const blocks = st.zeros.length
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

/** The first of the cheapest parameters among guess - 1 .. guess + 1, and its cost. */
function pickK(cost: (k: number) => number, guess: number): [number, number] {
  let bestK = 0
  let bestBits = Infinity
  for (let k = Math.max(0, guess - 1); k <= Math.min(MAX_K, guess + 1); k++) {
    const bits = cost(k)
    if (bits < bestBits) {
      bestBits = bits
      bestK = k
    }
  }
  return [bestK, bestBits]
}

function planStreamInt(a: Int32Array, n: number): StreamPlan {
  const st = gatherStats(a, n)
  const blocks = st.zeros.length
  const acc = new Float64Array(blocks * 32)
  riceSums(a, n, st, acc)
  const short: BlockPlan[] = []
  let shortBits = 0
  for (let b = 0; b < blocks; b++) {
    const s = b * SHORT
    const e = Math.min(n, s + SHORT)
    const zeros = st.zeros[b] ?? 0
    let plan: BlockPlan
    if (zeros === e - s) {
      plan = zeroBlock()
    } else {
      const at = b * 32
      const [k, bits] = pickK(
        (k) => (acc[at + k] ?? 0) + (e - s) * (1 + k),
        guessK(st.sums[b] ?? 0, e - s),
      )
      plan = riceOrSparse(a, s, e, zeros, k, bits)
    }
    short.push(plan)
    shortBits += plan.bits
  }
  let best: StreamPlan = { sizeIndex: 0, bits: shortBits, blocks: short }
  if (n > SHORT) {
    const long: BlockPlan[] = []
    let longBits = 0
    const per = LONG / SHORT
    for (let g = 0; g < blocks && longBits < best.bits; g += per) {
      const ge = Math.min(blocks, g + per)
      const s = g * SHORT
      const e = Math.min(n, ge * SHORT)
      let zeros = 0
      let sum = 0
      for (let b = g; b < ge; b++) {
        zeros += st.zeros[b] ?? 0
        sum += st.sums[b] ?? 0
      }
      let plan: BlockPlan
      if (zeros === e - s) {
        plan = zeroBlock()
      } else {
        const cost = (k: number): number => {
          let bits = (e - s) * (1 + k)
          for (let b = g; b < ge; b++) bits += acc[b * 32 + k] ?? 0
          return bits
        }
        const [k, bits] = pickK(cost, guessK(sum, e - s))
        plan = riceOrSparse(a, s, e, zeros, k, bits)
      }
      long.push(plan)
      longBits += plan.bits
    }
    if (longBits < best.bits) best = { sizeIndex: 1, bits: longBits, blocks: long }
  }
  return tryHuffmanAndPairs(
    best,
    n,
    () => (n < MIN_HUFFMAN_VALUES ? undefined : huffmanFromStats(st)),
    () => (n < MIN_PAIR_VALUES ? undefined : pairsFromStats(st)),
  )
}

function huffmanFromStats(st: IntStats): HuffmanPlan | undefined {
  const symbols = Math.min(MAX_SYMBOLS, st.max + 2)
  const esc = symbols - 1
  const freq = new Float64Array(symbols)
  for (let s = 0; s < MAX_SYMBOLS; s++) {
    const c = st.hist[s] ?? 0
    if (s < esc) freq[s] = c
    else freq[esc] = (freq[esc] ?? 0) + c
  }
  const escaped = Float64Array.from(st.huffmanEscapes.subarray(0, st.huffmanEscapeCount))
  const [kEsc, escBits] = bestRice(escaped, 0, escaped.length)
  return huffmanPlanOf(freq, kEsc, escBits)
}

function pairsFromStats(st: IntStats): PairPlan | undefined {
  const escaped = Float64Array.from(st.pairEscapes.subarray(0, st.pairEscapeCount))
  const [kEsc, escBits] = bestRice(escaped, 0, escaped.length)
  return pairPlanOf(st.pairHist, kEsc, escBits)
}
