import {
  DELTA,
  LIN_BASE,
  LIN_MAX_ABS,
  LIN_SIZES,
  MA_BASE,
  MA_LOG2,
  PREDICTORS,
  residualsRange,
} from './series-predict.js'

/**
 * Ranks the series coder's (predictor, mapping) candidates by estimated size, so that only the
 * best one or two are planned exactly. Residuals of up to FULL_MAX values are ranked in full;
 * longer series on SAMPLE_BLOCKS evenly spread blocks of SAMPLE_BLOCK residuals. The
 * EST_PREDICTORS predictors of smallest L1 spread get each mapping scored: by the empirical
 * entropy of the sample (values below EST_SMALL exactly, larger ones by bit length plus their
 * low bits) and, for a series ranked in full, also by the Rice cost the mean implies, which is
 * what short streams pay (a Huffman table would outweigh their entropy gain).
 *
 * Scratch arrays are module-level and reused (see uint-stats.ts for why).
 */
export const SIGNED = 0
export const UNSIGNED = 1
const SAMPLE_BLOCK = 128
const SAMPLE_BLOCKS = 8
const FULL_MAX = SAMPLE_BLOCK * SAMPLE_BLOCKS
const EST_SMALL = 64
const EST_MARGIN = 0.03
const EST_PREDICTORS = 3
/** A Huffman table: alphabet size and kEsc (12 bits), then 4 bits per symbol. */
const TABLE_BITS = 12
const LENGTH_BITS = 4
const MAX_SYMBOLS = 63
const MIN_HUFFMAN_VALUES = 64

/** One ranked candidate; `median` and `min` are the exact biases when `exact`. */
export interface Candidate {
  predictor: number
  mapping: number
  bits: number
  exact: boolean
  bias: number
}

function candidate(): Candidate {
  return { predictor: DELTA, mapping: SIGNED, bits: 0, exact: false, bias: 0 }
}

/** The ranking's output, best first; rankCandidates returns how many are set. */
export const ranked: Candidate[] = [candidate(), candidate()]
const scored: Candidate[] = Array.from({ length: 2 * EST_PREDICTORS }, candidate)

/** Either every residual (n - 1 ≤ FULL_MAX) or the sampled blocks, per predictor. */
const samples = new Float64Array(FULL_MAX * PREDICTORS)
const sorted = new Float64Array(FULL_MAX)
const signedHist = new Int32Array(EST_SMALL + 54)
const unsignedHist = new Int32Array(EST_SMALL + 54)
const spreads = new Float64Array(PREDICTORS)
const order = new Int32Array(PREDICTORS)

/** Whether predictor p applies to n values of largest magnitude maxAbs. */
function isApplicable(p: number, n: number, maxAbs: number): boolean {
  if (p >= LIN_BASE) return maxAbs <= LIN_MAX_ABS && n > (LIN_SIZES[p - LIN_BASE] ?? 0)
  if (p >= MA_BASE) return n > 1 << (MA_LOG2[p - MA_BASE] ?? 0)
  return true
}

function spread(res: Float64Array, start: number, end: number): number {
  let mean = 0
  for (let i = start; i < end; i++) mean += res[i] ?? 0
  mean /= Math.max(1, end - start)
  let l1 = 0
  for (let i = start; i < end; i++) l1 += Math.abs((res[i] ?? 0) - mean)
  return l1
}

/** The k-th smallest of a[0..n) (Hoare's quickselect; reorders a). */
export function select(a: Float64Array, n: number, k: number): number {
  let lo = 0
  let hi = n - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] ?? 0
    let i = lo
    let j = hi
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++
      while ((a[j] ?? 0) > pivot) j--
      if (i <= j) {
        const t = a[i] ?? 0
        a[i++] = a[j] ?? 0
        a[j--] = t
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else break
  }
  return a[k] ?? 0
}

export function minimum(res: Float64Array, start: number, end: number): number {
  let min = Infinity
  for (let i = start; i < end; i++) {
    const r = res[i] ?? 0
    if (r < min) min = r
  }
  return min
}

/** Entropy bits of the histogram plus rawBits (the low bits of the large values). */
function entropyBits(hist: Int32Array, count: number, rawBits: number): number {
  let bits = rawBits
  for (let b = 0; b < hist.length; b++) {
    const c = hist[b] ?? 0
    if (c > 0) bits += c * Math.log2(count / c)
  }
  return bits
}

function addToHistogram(hist: Int32Array, v: number): number {
  if (v < EST_SMALL) {
    hist[v] = (hist[v] ?? 0) + 1
    return 0
  }
  const len = v < 4294967296 ? 32 - Math.clz32(v) : Math.floor(Math.log2(v)) + 1
  hist[EST_SMALL + len] = (hist[EST_SMALL + len] ?? 0) + 1
  return len - 1
}

/** Roughly the Rice bits of `count` values summing to `sum`, with the best parameter. */
function riceEstimate(sum: number, count: number): number {
  const mean = sum / Math.max(1, count)
  const guess = mean < 1 ? 0 : Math.floor(Math.log2(mean))
  let best = Infinity
  for (let k = Math.max(0, guess - 1); k <= guess + 1; k++) {
    // Each quotient floors away half a unit on average.
    const q = k === 0 ? sum : Math.max(0, sum / 2 ** k - count / 2)
    best = Math.min(best, count * (1 + k) + q)
  }
  return best
}

/** Fills samples with the residuals of each applicable predictor; returns the sample size. */
function sampleResiduals(values: Float64Array, maxAbs: number): number {
  const n = values.length
  const full = n - 1 <= FULL_MAX
  const blocks = full ? 1 : SAMPLE_BLOCKS
  const block = full ? n - 1 : SAMPLE_BLOCK
  const total = blocks * block
  const stride = blocks > 1 ? (n - 1 - SAMPLE_BLOCK) / (blocks - 1) : 0
  for (let p = 0; p < PREDICTORS; p++) {
    if (!isApplicable(p, n, maxAbs)) {
      spreads[p] = Infinity
      continue
    }
    const at = p * total
    for (let b = 0; b < blocks; b++) {
      const from = 1 + Math.floor(b * stride)
      residualsRange(values, p, from, from + block, samples, at + b * block)
    }
    spreads[p] = spread(samples, at, at + total)
  }
  // Predictors by spread, ties to the lower number (a stable sort).
  for (let p = 0; p < PREDICTORS; p++) {
    let j = p
    while (j > 0 && (spreads[order[j - 1] ?? 0] ?? 0) > (spreads[p] ?? 0)) {
      order[j] = order[j - 1] ?? 0
      j--
    }
    order[j] = p
  }
  return total
}

function score(c: Candidate, predictor: number, mapping: number, bits: number, bias: number): void {
  c.predictor = predictor
  c.mapping = mapping
  c.bits = bits
  c.bias = bias
}

/** Scores both mappings of predictor p on its sample into scored[2i], scored[2i + 1]. */
function scorePredictor(p: number, total: number, full: boolean, i: number): void {
  const at = p * total
  sorted.set(samples.subarray(at, at + total))
  const median = select(sorted, total, total >>> 1)
  const min = minimum(samples, at, at + total)
  const s = scored[2 * i] ?? candidate()
  const u = scored[2 * i + 1] ?? candidate()
  if (full && total < MIN_HUFFMAN_VALUES) {
    // Only Rice codes apply to so few values: no histogram needed.
    let signedSum = 0
    let unsignedSum = 0
    for (let j = at; j < at + total; j++) {
      const r = samples[j] ?? 0
      const d = r - median
      signedSum += d >= 0 ? 2 * d : -2 * d - 1
      unsignedSum += r - min
    }
    score(s, p, SIGNED, riceEstimate(signedSum, total), median)
    score(u, p, UNSIGNED, riceEstimate(unsignedSum, total), min)
  } else {
    histogramScores(s, u, p, at, total, full, median, min)
  }
  s.exact = u.exact = full
}

function histogramScores(
  s: Candidate,
  u: Candidate,
  p: number,
  at: number,
  total: number,
  full: boolean,
  median: number,
  min: number,
): void {
  signedHist.fill(0)
  unsignedHist.fill(0)
  let signedRaw = 0
  let unsignedRaw = 0
  let signedSum = 0
  let unsignedSum = 0
  let signedMax = 0
  let unsignedMax = 0
  for (let j = at; j < at + total; j++) {
    const r = samples[j] ?? 0
    const d = r - median
    const sv = d >= 0 ? 2 * d : -2 * d - 1
    const uv = r - min
    signedRaw += addToHistogram(signedHist, sv)
    unsignedRaw += addToHistogram(unsignedHist, uv)
    signedSum += sv
    unsignedSum += uv
    if (sv > signedMax) signedMax = sv
    if (uv > unsignedMax) unsignedMax = uv
  }
  let signedBits = entropyBits(signedHist, total, signedRaw)
  let unsignedBits = entropyBits(unsignedHist, total, unsignedRaw)
  if (full) {
    // A short stream pays for a Huffman table, or takes Rice codes.
    const signedTable = TABLE_BITS + LENGTH_BITS * Math.min(MAX_SYMBOLS, signedMax + 2)
    const unsignedTable = TABLE_BITS + LENGTH_BITS * Math.min(MAX_SYMBOLS, unsignedMax + 2)
    signedBits = Math.min(riceEstimate(signedSum, total), signedBits + signedTable)
    unsignedBits = Math.min(riceEstimate(unsignedSum, total), unsignedBits + unsignedTable)
  }
  score(s, p, SIGNED, signedBits, median)
  score(u, p, UNSIGNED, unsignedBits, min)
}

/**
 * Ranks the candidates for values (n ≥ 2) into `ranked`: the best, and the second best when
 * within EST_MARGIN of it (at most two go on to exact planning). Returns how many.
 */
export function rankCandidates(values: Float64Array, maxAbs: number): number {
  const n = values.length
  const total = sampleResiduals(values, maxAbs)
  const full = n - 1 <= FULL_MAX
  let count = 0
  for (let i = 0; i < EST_PREDICTORS; i++) {
    const p = order[i] ?? DELTA
    if (!Number.isFinite(spreads[p] ?? Infinity)) break
    scorePredictor(p, total, full, i)
    count += 2
  }
  // The two smallest scores, ties to the earlier candidate.
  let first = 0
  for (let i = 1; i < count; i++) if ((scored[i]?.bits ?? 0) < (scored[first]?.bits ?? 0)) first = i
  let second = -1
  for (let i = 0; i < count; i++) {
    if (i === first) continue
    if (second < 0 || (scored[i]?.bits ?? 0) < (scored[second]?.bits ?? 0)) second = i
  }
  copy(ranked[0], scored[first])
  const limit = (scored[first]?.bits ?? 0) * (1 + EST_MARGIN)
  if (second < 0 || (scored[second]?.bits ?? 0) > limit) return 1
  copy(ranked[1], scored[second])
  return 2
}

function copy(to: Candidate | undefined, from: Candidate | undefined): void {
  if (to === undefined || from === undefined) return
  to.predictor = from.predictor
  to.mapping = from.mapping
  to.bits = from.bits
  to.exact = from.exact
  to.bias = from.bias
}
