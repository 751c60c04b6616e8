import { huffmanPlanOf, MAX_SYMBOLS, MIN_HUFFMAN_VALUES, type HuffmanPlan } from './huffman.js'
import { BASE, MIN_PAIR_VALUES, PAIR_SYMBOLS, pairPlanOf, type PairPlan } from './pair-huffman.js'
import {
  HUFFMAN,
  LONG,
  PAIR_TABLE_BITS,
  PAIRS,
  riceOrSparse,
  SHORT,
  zeroBlock,
  type BlockPlan,
  type StreamPlan,
} from './uint-blocks.js'
import { gatherStats, guessK, riceOfInts, type IntStats } from './uint-stats.js'
import { MAX_K } from './rice.js'

/**
 * The planner for streams whose values all fit in 31 bits (nearly all of them), from an
 * Int32Array copy: one pass gathers per-block statistics and the Rice costs of the parameters
 * either block size may pick (uint-stats.ts); Huffman and pair codes are planned only where a
 * lower bound from the value histogram's entropy says they could beat the Rice blocks.
 */

/** Bits of the Huffman header beyond the code lengths: the alphabet size and kEsc. */
const HUFFMAN_HEADER_BITS = 12
const LENGTH_BITS = 4
/**
 * Pairs are skipped when half the values' entropy, which a pair code rarely beats by much,
 * plus the table already costs this fraction of the best plan or more.
 */
const PAIR_SKIP = 0.95

let pairEscapes = new Int32Array(1024)
const pairHist = new Float64Array(PAIR_SYMBOLS)
const freqScratch = new Float64Array(MAX_SYMBOLS)

/** Rice parameter and bits for a short block b, from the gathered cost sums. */
function shortBlock(a: Int32Array, n: number, st: IntStats, b: number): BlockPlan {
  const s = b * SHORT
  const e = Math.min(n, s + SHORT)
  const zeros = st.zeros[b] ?? 0
  if (zeros === e - s) return zeroBlock()
  const at = b * 32
  const guess = guessK(st.sums[b] ?? 0, e - s)
  let bestK = 0
  let bestBits = Infinity
  for (let k = Math.max(0, guess - 1); k <= Math.min(MAX_K, guess + 1); k++) {
    const bits = (st.riceCosts[at + k] ?? 0) + (e - s) * (1 + k)
    if (bits < bestBits) {
      bestBits = bits
      bestK = k
    }
  }
  return riceOrSparse(a, s, e, zeros, bestK, bestBits)
}

/** The same for the long block of short blocks [g, ge). */
function longBlock(a: Int32Array, n: number, st: IntStats, g: number, ge: number): BlockPlan {
  const s = g * SHORT
  const e = Math.min(n, ge * SHORT)
  let zeros = 0
  let sum = 0
  for (let b = g; b < ge; b++) {
    zeros += st.zeros[b] ?? 0
    sum += st.sums[b] ?? 0
  }
  if (zeros === e - s) return zeroBlock()
  const guess = guessK(sum, e - s)
  let bestK = 0
  let bestBits = Infinity
  for (let k = Math.max(0, guess - 1); k <= Math.min(MAX_K, guess + 1); k++) {
    let bits = (e - s) * (1 + k)
    for (let b = g; b < ge; b++) bits += st.riceCosts[b * 32 + k] ?? 0
    if (bits < bestBits) {
      bestBits = bits
      bestK = k
    }
  }
  return riceOrSparse(a, s, e, zeros, bestK, bestBits)
}

function riceBlocks(a: Int32Array, n: number, st: IntStats): StreamPlan {
  const short: BlockPlan[] = []
  let shortBits = 0
  for (let b = 0; b < st.blocks; b++) {
    const plan = shortBlock(a, n, st, b)
    short.push(plan)
    shortBits += plan.bits
  }
  const best: StreamPlan = { sizeIndex: 0, bits: shortBits, blocks: short }
  if (n <= SHORT) return best
  const long: BlockPlan[] = []
  let longBits = 0
  const per = LONG / SHORT
  for (let g = 0; g < st.blocks && longBits < best.bits; g += per) {
    const plan = longBlock(a, n, st, g, Math.min(st.blocks, g + per))
    long.push(plan)
    longBits += plan.bits
  }
  return longBits < best.bits ? { sizeIndex: 1, bits: longBits, blocks: long } : best
}

/** Σ c·log2(n / c) over the histogram: no prefix code of these symbols is shorter. */
function entropyBits(hist: Float64Array, count: number, n: number): number {
  let bits = 0
  for (let s = 0; s < count; s++) {
    const c = hist[s] ?? 0
    if (c > 0) bits += c * Math.log2(n / c)
  }
  return bits
}

/** Plans a[0..n) (values below 2^31, a[n] = 0). */
export function planStreamInt(a: Int32Array, n: number): StreamPlan {
  const st = gatherStats(a, n)
  let best = riceBlocks(a, n, st)
  const symbols = Math.min(MAX_SYMBOLS, st.max + 2)
  // Huffman codes cost at least the entropy of the symbols (escapes as one) and the table.
  const entropy = entropyBits(st.hist, MAX_SYMBOLS, n)
  const huffmanFloor = entropy + HUFFMAN_HEADER_BITS + LENGTH_BITS * symbols
  if (n >= MIN_HUFFMAN_VALUES && best.bits > n && huffmanFloor < best.bits) {
    const h = huffmanFromStats(st, symbols)
    if (h !== undefined && h.bits < best.bits) {
      best = { sizeIndex: HUFFMAN, bits: h.bits, blocks: [], huffman: h }
    }
  }
  const pairFloor = (entropy / 2) * PAIR_SKIP + PAIR_TABLE_BITS
  if (n >= MIN_PAIR_VALUES && best.bits > n / 2 + PAIR_TABLE_BITS && pairFloor < best.bits) {
    const p = pairsOf(a, n)
    if (p !== undefined && p.bits < best.bits) {
      best = { sizeIndex: PAIRS, bits: p.bits, blocks: [], pairs: p }
    }
  }
  return best
}

/**
 * Values below esc are their own symbol. gatherStats escaped values from MAX_SYMBOLS - 1 up;
 * a smaller alphabet (symbols = max + 2) has no value at or above its escape.
 */
function huffmanFromStats(st: IntStats, symbols: number): HuffmanPlan | undefined {
  const esc = symbols - 1
  const freq = freqScratch.subarray(0, symbols)
  freq.fill(0)
  for (let s = 0; s < MAX_SYMBOLS; s++) {
    const c = st.hist[s] ?? 0
    if (s < esc) freq[s] = c
    else freq[esc] = (freq[esc] ?? 0) + c
  }
  const [kEsc, escBits] = riceOfInts(st.huffmanEscapes, st.huffmanEscapeCount)
  return huffmanPlanOf(freq, kEsc, escBits)
}

function pairsOf(a: Int32Array, n: number): PairPlan | undefined {
  if (pairEscapes.length < n + 1) pairEscapes = new Int32Array(Math.max(n + 1, n * 2))
  const esc = PAIR_SYMBOLS - 1
  pairHist.fill(0)
  let np = 0
  for (let i = 0; i < n; i += 2) {
    const x = a[i] ?? 0
    const y = a[i + 1] ?? 0
    if (x < BASE && y < BASE) {
      const sym = x * BASE + y
      pairHist[sym] = (pairHist[sym] ?? 0) + 1
    } else {
      pairHist[esc] = (pairHist[esc] ?? 0) + 1
      pairEscapes[np++] = x
      pairEscapes[np++] = y
    }
  }
  const [kEsc, escBits] = riceOfInts(pairEscapes, np)
  return pairPlanOf(pairHist, kEsc, escBits)
}
