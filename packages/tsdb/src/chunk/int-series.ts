import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'
import { DELTA, FIRST, PREDICTORS, reconstruct, residuals } from './series-predict.js'
import { minimum, rankCandidates, ranked, select, SIGNED } from './series-rank.js'
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
 * where zigzag would waste a bit per value). The encoder ranks the candidates by an estimate
 * of their size (series-rank.ts) and keeps the smaller exact size of the best one or two.
 *
 * Layout: predictor (3 bits), mapping (1 bit), b and v[0] as zigzag varbits (6-bit length, then
 * the bits), then the n - 1 mapped residuals (uint-coder).
 */
export const MAX_SERIES_ABS = 2 ** 48

const PREDICTOR_BITS = 3
const MEDIAN_SAMPLE = 1025
/** Roughly the header bits: predictor, mapping, two varbit lengths, stream kind, a block mode. */
const HEADER_BITS = 24

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

/*
 * Scratch, module-level and reused (encoding is synchronous and never re-enters writeSeries):
 * the residuals, and two buffers of mapped residuals that the best and the current candidate
 * swap between.
 */
let res = new Float64Array(1024)
let mappedA = new Float64Array(1024)
let mappedB = new Float64Array(1024)
let medianSample = new Float64Array(MEDIAN_SAMPLE + 1)

function ensureScratch(n: number): void {
  if (res.length >= n) return
  const size = Math.max(n, res.length * 2)
  res = new Float64Array(size)
  mappedA = new Float64Array(size)
  mappedB = new Float64Array(size)
}

/** The median of values[start..end), from an even sample of about a thousand for long inputs. */
export function sampledMedian(values: Float64Array, start = 0, end = values.length): number {
  const n = end - start
  if (n <= 0) return 0
  const step = Math.max(1, Math.floor(n / MEDIAN_SAMPLE))
  const count = Math.ceil(n / step)
  if (medianSample.length < count) medianSample = new Float64Array(count)
  for (let i = start, j = 0; j < count; i += step) medianSample[j++] = values[i] ?? 0
  return select(medianSample, count, count >>> 1)
}

export interface SeriesPlan {
  predictor: number
  mapping: number
  bias: number
  mapped: Float64Array
  coded: UintsPlan
}

function mapResiduals(n: number, mapping: number, bias: number, out: Float64Array): void {
  if (mapping === SIGNED) {
    for (let i = 1; i < n; i++) {
      const r = (res[i] ?? 0) - bias
      out[i] = r >= 0 ? 2 * r : -2 * r - 1
    }
  } else {
    for (let i = 1; i < n; i++) out[i] = (res[i] ?? 0) - bias
  }
}

function maxAbsOf(values: Float64Array): number {
  let maxAbs = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0
    const a = v < 0 ? -v : v
    if (a > maxAbs) maxAbs = a
  }
  return maxAbs
}

/** The values the ranking last ranked (see {@link estimateSeriesBits}), so that planning reuses it. */
let rankedValues: Float64Array | undefined
let rankedCount = 0

/**
 * Roughly the bits writeSeries would write (from the ranking's estimate), or undefined for
 * fewer than two values.
 */
export function estimateSeriesBits(values: Float64Array): number | undefined {
  if (values.length < 2) return undefined
  rankedCount = rankCandidates(values, maxAbsOf(values))
  rankedValues = values
  return (ranked[0]?.bits ?? 0) + HEADER_BITS
}

function rankOnce(values: Float64Array): number {
  const count = rankedValues === values ? rankedCount : rankCandidates(values, maxAbsOf(values))
  rankedValues = undefined
  return count
}

function planSeries(values: Float64Array): SeriesPlan {
  const n = values.length
  ensureScratch(n)
  if (n < 2) {
    // Nothing to predict: the first candidate the ranking would have listed.
    return {
      predictor: FIRST,
      mapping: SIGNED,
      bias: 0,
      mapped: mappedA,
      coded: planUints(mappedA, 1, n),
    }
  }
  const count = rankOnce(values)
  let best: SeriesPlan | undefined
  let computed = -1
  for (let c = 0; c < count; c++) {
    const {
      predictor,
      mapping,
      exact,
      bias: rankedBias,
    } = ranked[c] ?? { predictor: DELTA, mapping: SIGNED, exact: false, bias: 0 }
    if (computed !== predictor) {
      residuals(values, predictor, res)
      computed = predictor
    }
    const bias = exact
      ? rankedBias
      : mapping === SIGNED
        ? sampledMedian(res, 1, n)
        : minimum(res, 1, n)
    const mapped = best?.mapped === mappedA ? mappedB : mappedA
    mapResiduals(n, mapping, bias, mapped)
    const coded = planUints(mapped, 1, n)
    if (best === undefined || coded.bits < best.coded.bits) {
      best = { predictor, mapping, bias, mapped, coded }
    }
  }
  if (best !== undefined) return best
  // Unreachable (rankCandidates returns at least one); kept total for the type checker.
  mappedA.fill(0, 0, n)
  return {
    predictor: DELTA,
    mapping: SIGNED,
    bias: 0,
    mapped: mappedA,
    coded: planUints(mappedA, 1, n),
  }
}

/** How writeSeries would write some values, and its exact size in bits. */
export interface PlannedSeries {
  readonly bits: number
  readonly values: Float64Array
  readonly plan: SeriesPlan
}

function varBitsLength(v: number): number {
  const bits = v === 0 ? 0 : Math.floor(Math.log2(v)) + 1
  return 6 + (v >= 2 ** bits ? bits + 1 : bits)
}

/**
 * Plans writing the values (n ≥ 1) without writing them: for a caller that compares the size
 * with another encoding's first. Valid until the next plan or write of a series.
 */
export function planSeriesBits(input: ArrayLike<number>): PlannedSeries {
  const values = input instanceof Float64Array ? input : Float64Array.from(input)
  const plan = planSeries(values)
  const bits =
    PREDICTOR_BITS +
    1 +
    varBitsLength(zigzag(plan.bias)) +
    varBitsLength(zigzag(values[0] ?? 0)) +
    plan.coded.bits
  return { bits, values, plan }
}

/** Writes the values (each an integer with |v| ≤ MAX_SERIES_ABS) with the best predictor. */
export function writeSeries(w: BitWriter, input: ArrayLike<number>): void {
  if (input.length === 0) return
  writePlannedSeries(w, planSeriesBits(input))
}

/** Writes what {@link planSeriesBits} planned (nothing planned since). */
export function writePlannedSeries(w: BitWriter, planned: PlannedSeries): void {
  const { values, plan } = planned
  const n = values.length
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
  out[0] = unzigzag(readVarBits(r))
  readUints(r, out, 1, n)
  reconstruct(out, predictor, signed, bias)
}
