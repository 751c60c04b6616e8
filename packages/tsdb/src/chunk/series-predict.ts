/**
 * The predictors of the series coder (int-series.ts documents them), both ways: residuals for
 * the encoder, reconstruction for the decoder. Both sides use the same float arithmetic.
 */
export const FIRST = 0
export const DELTA = 1
export const DOD = 2
export const MA_LOG2 = [2, 3, 4] as const
export const MA_BASE = 3
export const LIN_SIZES = [16, 32] as const
export const LIN_BASE = 6
export const PREDICTORS = 8
/** Largest |v| for the linear predictors, so that k · Σ x·v stays exact. */
export const LIN_MAX_ABS = 2 ** 38

/**
 * Writes the signed residuals of `predictor` for i in [from, to) (from ≥ 1) to out[at..]. Every
 * running sum is of integers below 2^53, so starting mid-series gives the same residuals as a
 * pass from the start: the encoder can rank predictors on a sample of blocks.
 */
export function residualsRange(
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
export function residuals(v: Float64Array, predictor: number, out: Float64Array): void {
  residualsRange(v, predictor, 1, v.length, out, 1)
}

/**
 * The least-squares line through the window (x = 0..k-1, Σy = sy, Σx·y = sxy) evaluated at
 * x = k, rounded. Encoder and decoder both call this, so the float arithmetic is identical.
 */
function linearPrediction(sy: number, sxy: number, k: number, c: LinearConstants): number {
  return Math.round(sy * c.invK + (k * sxy - c.sx * sy) * c.slope)
}

/** The constants of LIN16 and LIN32, computed once. */
const LINEAR = LIN_SIZES.map(computeLinearConstants)

function linearConstants(k: number): LinearConstants {
  return (k === LIN_SIZES[0] ? LINEAR[0] : LINEAR[1]) ?? computeLinearConstants(k)
}

interface LinearConstants {
  invK: number
  sx: number
  slope: number
}

function computeLinearConstants(k: number): LinearConstants {
  const d = (k * k * (k * k - 1)) / 12
  return { invK: 1 / k, sx: (k * (k - 1)) / 2, slope: (k + 1) / (2 * d) }
}

/**
 * Turns the coded residuals in out[1..n) back into values, given out[0] (the decoder's half of
 * residualsRange).
 */
export function reconstruct(
  out: Float64Array,
  predictor: number,
  signed: boolean,
  bias: number,
): void {
  const n = out.length
  const first = out[0] ?? 0
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
