import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'
import { planUints, readUints, writeUints, type UintsPlan } from './uint-coder.js'

/**
 * Coding of a sequence of integers (ALP-scaled floats, int64 values in the safe range,
 * timestamp offsets, string dictionary codes) as a predictor and its residuals r. Predictors:
 *
 *   FIRST    v[0]                              levels that jump around one value
 *   DELTA    v[i-1]                            random walks, counters, timestamps
 *   DOD      2 v[i-1] - v[i-2]                 ramps with a steady slope
 *   MA4/8/16 round(mean of the last 4/8/16)    a slow signal under independent noise: the
 *            residual variance is σ²(1 + 1/k) against 2σ² for DELTA
 *   LIN16/32 the least-squares line through the last 16/32 values, one step ahead: the same
 *            for a signal with a trend (a daily cycle sampled once a minute), where a moving
 *            average lags by (k + 1)/2 steps; residual variance σ²(1 + (4k + 2)/(k² - k))
 *
 * and two residual mappings: SIGNED codes zigzag(r - b) with b the median (symmetric noise);
 * UNSIGNED codes r - b with b the minimum (one-sided: counter increments, inter-arrival times,
 * where zigzag would waste a bit per value). The encoder ranks predictors by the L1 spread of
 * their residuals and keeps the smallest exact size among the two best.
 *
 * Layout: predictor (3 bits), mapping (1 bit), b and v[0] as zigzag varbits (6-bit length, then
 * the bits), then the n - 1 mapped residuals (uint-coder).
 */
export const MAX_SERIES_ABS = 2 ** 48

const PREDICTOR_BITS = 3
const FIRST = 0
const DELTA = 1
const DOD = 2
const MA_LOG2 = [2, 3, 4] as const
const MA_BASE = 3
const LIN_SIZES = [16, 32] as const
const LIN_BASE = 6
const PREDICTORS = 8
/** Largest |v| for the linear predictors, so that k · Σ x·v stays exact. */
const LIN_MAX_ABS = 2 ** 38
const SIGNED = 0
const UNSIGNED = 1
const MEDIAN_SAMPLE = 1025
/** Up to this many values every candidate is planned exactly, as format version 1 first did. */
const EXHAUSTIVE_MAX = 512
/** Longer series rank candidates on up to SAMPLE_BLOCKS blocks of SAMPLE_BLOCK residuals. */
const SAMPLE_BLOCK = 128
const SAMPLE_BLOCKS = 8
/** Histogram bins kept exactly by estimateBits. */
const EST_SMALL = 64
const EST_MARGIN = 0.03
const EST_CANDIDATES = 2
const EST_PREDICTORS = 3

/** Maps a signed integer to an unsigned one: 0, -1, 1, -2 … → 0, 1, 2, 3 … */
export function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1
}

/** The inverse of zigzag. */
export function unzigzag(z: number): number {
  // Math.floor instead of `z % 2`: fmod on doubles is several times slower in V8.
  const h = z * 0.5
  const f = Math.floor(h)
  return f === h ? f : -f - 1
}

/** Writes an unsigned integer < 2^53 as its bit length (6 bits) and its bits. */
export function writeVarBits(w: BitWriter, v: number): void {
  const bits = v === 0 ? 0 : Math.floor(Math.log2(v)) + 1
  const len = v >= 2 ** bits ? bits + 1 : bits
  w.write(len, 6)
  w.writeLong(v, len)
}

/** Reads what writeVarBits wrote. */
export function readVarBits(r: BitReader): number {
  const len = r.read(6)
  if (len > 53) throw r.corrupt(`varbits length ${String(len)}`)
  return r.readLong(len)
}

/**
 * Writes the signed residuals of `predictor` for i in [from, to) (from ≥ 1) to out[at..]. Every
 * running sum is of integers below 2^53, so starting mid-series gives the same residuals as a
 * pass from the start: the encoder can rank predictors on a sample of blocks.
 */
function residualsRange(
  v: Float64Array,
  predictor: number,
  from: number,
  to: number,
  out: Float64Array,
  at: number,
): void {
  const n = v.length
  const first = v[0] ?? 0
  const o = at - from
  if (predictor === FIRST) {
    for (let i = from; i < to; i++) out[o + i] = (v[i] ?? 0) - first
  } else if (predictor === DELTA || n < 3) {
    for (let i = from; i < to; i++) out[o + i] = (v[i] ?? 0) - (v[i - 1] ?? 0)
  } else if (predictor === DOD) {
    let i = from
    if (i === 1 && i < to) {
      out[o + 1] = (v[1] ?? 0) - first
      i = 2
    }
    for (; i < to; i++) out[o + i] = (v[i] ?? 0) - 2 * (v[i - 1] ?? 0) + (v[i - 2] ?? 0)
  } else if (predictor >= LIN_BASE) {
    const k = LIN_SIZES[predictor - LIN_BASE] ?? 16
    let i = from
    for (; i < to && i < k; i++) out[o + i] = (v[i] ?? 0) - (v[i - 1] ?? 0)
    if (i >= to) return
    const c = linearConstants(k)
    let sy = 0
    let sxy = 0
    for (let x = 0; x < k; x++) {
      const y = v[i - k + x] ?? 0
      sy += y
      sxy += x * y
    }
    for (; i < to; i++) {
      const y = v[i] ?? 0
      out[o + i] = y - linearPrediction(sy, sxy, k, c)
      const oldest = v[i - k] ?? 0
      sxy = sxy - sy + oldest + (k - 1) * y
      sy = sy - oldest + y
    }
  } else {
    const shift = MA_LOG2[predictor - MA_BASE] ?? 2
    const k = 1 << shift
    const half = k / 2
    let i = from
    for (; i < to && i < k; i++) out[o + i] = (v[i] ?? 0) - (v[i - 1] ?? 0)
    if (i >= to) return
    let sum = 0
    for (let j = i - k; j < i; j++) sum += v[j] ?? 0
    for (; i < to; i++) {
      const y = v[i] ?? 0
      out[o + i] = y - Math.floor((sum + half) / k)
      sum += y - (v[i - k] ?? 0)
    }
  }
}

/** Fills out[1..n) with the signed residuals of `predictor`. */
function residuals(v: Float64Array, predictor: number, out: Float64Array): void {
  residualsRange(v, predictor, 1, v.length, out, 1)
}

/**
 * The least-squares line through the window (x = 0..k-1, Σy = sy, Σx·y = sxy) evaluated at
 * x = k, rounded. Encoder and decoder both call this, so the float arithmetic is identical.
 */
function linearPrediction(sy: number, sxy: number, k: number, c: LinearConstants): number {
  return Math.round(sy * c.invK + (k * sxy - c.sx * sy) * c.slope)
}

interface LinearConstants {
  invK: number
  sx: number
  slope: number
}

function linearConstants(k: number): LinearConstants {
  const d = (k * k * (k * k - 1)) / 12
  return { invK: 1 / k, sx: (k * (k - 1)) / 2, slope: (k + 1) / (2 * d) }
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
function select(a: Float64Array, n: number, k: number): number {
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

/** The median of values[start..], from an even sample of about a thousand for long inputs. */
export function sampledMedian(values: Float64Array, start = 0): number {
  const n = values.length - start
  if (n <= 0) return 0
  const step = Math.max(1, Math.floor(n / MEDIAN_SAMPLE))
  const count = Math.ceil(n / step)
  const sample = new Float64Array(count)
  for (let i = start, j = 0; j < count; i += step) sample[j++] = values[i] ?? 0
  return select(sample, count, count >>> 1)
}

interface SeriesPlan {
  predictor: number
  mapping: number
  bias: number
  mapped: Float64Array
  coded: UintsPlan
}

function mapResiduals(res: Float64Array, mapping: number, bias: number, out: Float64Array): void {
  const n = res.length
  if (mapping === SIGNED) {
    for (let i = 1; i < n; i++) {
      const r = (res[i] ?? 0) - bias
      out[i] = r >= 0 ? 2 * r : -2 * r - 1
    }
  } else {
    for (let i = 1; i < n; i++) out[i] = (res[i] ?? 0) - bias
  }
}

function minimum(res: Float64Array, start: number, end: number): number {
  let min = Infinity
  for (let i = start; i < end; i++) {
    const r = res[i] ?? 0
    if (r < min) min = r
  }
  return min
}

/** The predictors that apply to n values of largest magnitude maxAbs. */
function applicable(n: number, maxAbs: number): number[] {
  const out: number[] = []
  for (let p = 0; p < PREDICTORS; p++) {
    if (p >= LIN_BASE && (maxAbs > LIN_MAX_ABS || n <= (LIN_SIZES[p - LIN_BASE] ?? 0))) continue
    if (p >= MA_BASE && p < LIN_BASE && n <= 1 << (MA_LOG2[p - MA_BASE] ?? 0)) continue
    out.push(p)
  }
  return out
}

interface Candidate {
  predictor: number
  mapping: number
  /** The estimated size, where ranked by estimate. */
  bits?: number
}

/** The original search, kept for short series: the two smallest L1 spreads, each mapping. */
function rankBySpread(values: Float64Array, predictors: number[], res: Float64Array): Candidate[] {
  const n = values.length
  const ranked: { predictor: number; spread: number }[] = []
  for (const p of predictors) {
    residuals(values, p, res)
    ranked.push({ predictor: p, spread: spread(res, 1, n) })
  }
  ranked.sort((a, b) => a.spread - b.spread)
  return ranked.slice(0, 2).flatMap(({ predictor }) => [
    { predictor, mapping: SIGNED },
    { predictor, mapping: UNSIGNED },
  ])
}

/**
 * Bits a stream of these values would take, from the empirical entropy of its histogram
 * (values below EST_SMALL exactly, larger ones by bit length plus their low bits).
 */
function estimateBits(hist: Int32Array, count: number, rawBits: number): number {
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

/**
 * For long series, on a sample of blocks: the EST_PREDICTORS predictors of smallest L1 spread,
 * each mapping scored by estimateBits; the best ones (within EST_MARGIN of the best, at most
 * EST_CANDIDATES) go on to exact planning.
 */
function rankBySample(values: Float64Array, predictors: number[]): Candidate[] {
  const n = values.length
  const blocks = Math.min(SAMPLE_BLOCKS, Math.floor((n - 1) / SAMPLE_BLOCK))
  const total = blocks * SAMPLE_BLOCK
  const samples = new Float64Array(total * predictors.length)
  const stride = blocks > 1 ? (n - 1 - SAMPLE_BLOCK) / (blocks - 1) : 0
  const ranked: { index: number; spread: number }[] = []
  predictors.forEach((p, index) => {
    const at = index * total
    for (let b = 0; b < blocks; b++) {
      const from = 1 + Math.floor(b * stride)
      residualsRange(values, p, from, from + SAMPLE_BLOCK, samples, at + b * SAMPLE_BLOCK)
    }
    ranked.push({ index, spread: spread(samples, at, at + total) })
  })
  ranked.sort((x, y) => x.spread - y.spread)
  const sorted = new Float64Array(total)
  const signedHist = new Int32Array(EST_SMALL + 54)
  const unsignedHist = new Int32Array(EST_SMALL + 54)
  const scored: { predictor: number; mapping: number; bits: number }[] = []
  for (const { index } of ranked.slice(0, EST_PREDICTORS)) {
    const sample = samples.subarray(index * total, (index + 1) * total)
    const predictor = predictors[index] ?? DELTA
    sorted.set(sample)
    const median = select(sorted, total, total >>> 1)
    const min = minimum(sample, 0, total)
    signedHist.fill(0)
    unsignedHist.fill(0)
    let signedRaw = 0
    let unsignedRaw = 0
    for (let i = 0; i < total; i++) {
      const r = sample[i] ?? 0
      const d = r - median
      signedRaw += addToHistogram(signedHist, d >= 0 ? 2 * d : -2 * d - 1)
      unsignedRaw += addToHistogram(unsignedHist, r - min)
    }
    const signedBits = estimateBits(signedHist, total, signedRaw)
    scored.push({ predictor, mapping: SIGNED, bits: signedBits })
    scored.push({
      predictor,
      mapping: UNSIGNED,
      bits: estimateBits(unsignedHist, total, unsignedRaw),
    })
  }
  scored.sort((x, y) => x.bits - y.bits)
  const limit = (scored[0]?.bits ?? 0) * (1 + EST_MARGIN)
  return scored.filter((c, i) => i < EST_CANDIDATES && (i === 0 || c.bits <= limit))
}

/**
 * Roughly the bits writeSeries would write for a long series (from the sampled ranking), or
 * undefined for a short one, where only writing it tells.
 */
export function estimateSeriesBits(values: Float64Array): number | undefined {
  const n = values.length
  if (n <= EXHAUSTIVE_MAX) return undefined
  const maxAbs = maxAbsOf(values)
  const best = rankBySample(values, applicable(n, maxAbs))[0]
  return best === undefined ? undefined : best.bits
}

function maxAbsOf(values: Float64Array): number {
  let maxAbs = 0
  for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i] ?? 0))
  return maxAbs
}

function planSeries(values: Float64Array): SeriesPlan {
  const n = values.length
  const predictors = applicable(n, maxAbsOf(values))
  const res = new Float64Array(n)
  const candidates =
    n <= EXHAUSTIVE_MAX ? rankBySpread(values, predictors, res) : rankBySample(values, predictors)
  let best: SeriesPlan | undefined
  let spare: Float64Array = new Float64Array(n)
  let computed = -1
  for (const { predictor, mapping } of candidates) {
    if (computed !== predictor) {
      residuals(values, predictor, res)
      computed = predictor
    }
    const bias = n <= 1 ? 0 : mapping === SIGNED ? sampledMedian(res, 1) : minimum(res, 1, n)
    const mapped = spare
    mapResiduals(res, mapping, bias, mapped)
    const coded = planUints(mapped, 1, n)
    if (best === undefined || coded.bits < best.coded.bits) {
      spare = best?.mapped ?? new Float64Array(n)
      best = { predictor, mapping, bias, mapped, coded }
    }
  }
  if (best !== undefined) return best
  // Unreachable for n ≥ 1 (DELTA is always ranked); kept total for the type checker.
  const mapped = new Float64Array(n)
  return { predictor: DELTA, mapping: SIGNED, bias: 0, mapped, coded: planUints(mapped, 1, n) }
}

/** Writes the values (each an integer with |v| ≤ MAX_SERIES_ABS) with the best predictor. */
export function writeSeries(w: BitWriter, input: ArrayLike<number>): void {
  const n = input.length
  if (n === 0) return
  const values = input instanceof Float64Array ? input : Float64Array.from(input)
  const plan = planSeries(values)
  w.write(plan.predictor, PREDICTOR_BITS)
  w.write(plan.mapping, 1)
  writeVarBits(w, zigzag(plan.bias))
  writeVarBits(w, zigzag(values[0] ?? 0))
  writeUints(w, plan.mapped, 1, n, plan.coded)
}

/** Reads `out.length` values written by writeSeries into `out`. */
export function readSeries(r: BitReader, out: Float64Array): void {
  const n = out.length
  if (n === 0) return
  const predictor = r.read(PREDICTOR_BITS)
  if (predictor >= PREDICTORS) throw r.corrupt(`unknown predictor ${String(predictor)}`)
  const signed = r.bit() === SIGNED
  const bias = unzigzag(readVarBits(r))
  const first = unzigzag(readVarBits(r))
  out[0] = first
  readUints(r, out, 1, n)
  if (predictor === FIRST) {
    for (let i = 1; i < n; i++) out[i] = first + residual(out[i] ?? 0, signed, bias)
  } else if (predictor === DELTA || n < 3) {
    let prev = first
    for (let i = 1; i < n; i++) {
      prev += residual(out[i] ?? 0, signed, bias)
      out[i] = prev
    }
  } else if (predictor === DOD) {
    let prev2 = first
    let prev = first + residual(out[1] ?? 0, signed, bias)
    out[1] = prev
    for (let i = 2; i < n; i++) {
      const v = 2 * prev - prev2 + residual(out[i] ?? 0, signed, bias)
      out[i] = v
      prev2 = prev
      prev = v
    }
  } else if (predictor >= LIN_BASE) {
    readLinear(out, LIN_SIZES[predictor - LIN_BASE] ?? 16, signed, bias)
  } else {
    readMovingAverage(out, MA_LOG2[predictor - MA_BASE] ?? 2, signed, bias)
  }
}

/** A coded value back to its residual (inlined by V8 in the loops above). */
function residual(u: number, signed: boolean, bias: number): number {
  if (!signed) return u + bias
  const h = u * 0.5
  const f = Math.floor(h)
  return (f === h ? f : -f - 1) + bias
}

function readMovingAverage(out: Float64Array, shift: number, signed: boolean, bias: number): void {
  const n = out.length
  const k = 1 << shift
  let sum = 0
  let prev = out[0] ?? 0
  for (let i = 1; i < n; i++) {
    sum += prev
    if (i > k) sum -= out[i - 1 - k] ?? 0
    const pred = i < k ? prev : Math.floor((sum + k / 2) / k)
    prev = pred + residual(out[i] ?? 0, signed, bias)
    out[i] = prev
  }
}

function readLinear(out: Float64Array, k: number, signed: boolean, bias: number): void {
  const n = out.length
  const c = linearConstants(k)
  let prev = out[0] ?? 0
  for (let i = 1; i < Math.min(n, k); i++) {
    prev += residual(out[i] ?? 0, signed, bias)
    out[i] = prev
  }
  let sy = 0
  let sxy = 0
  for (let x = 0; x < k && x < n; x++) {
    sy += out[x] ?? 0
    sxy += x * (out[x] ?? 0)
  }
  for (let i = k; i < n; i++) {
    const y = linearPrediction(sy, sxy, k, c) + residual(out[i] ?? 0, signed, bias)
    out[i] = y
    const oldest = out[i - k] ?? 0
    sxy = sxy - sy + oldest + (k - 1) * y
    sy = sy - oldest + y
  }
}
