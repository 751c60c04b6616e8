import { LITTLE_ENDIAN, type BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import { MAX_SERIES_ABS, readSeries, writeSeries } from './int-series.js'

/**
 * int64 encodings:
 *
 *   RAW      n × 64 bits.
 *   SERIES   every |v| ≤ 2^48: the values through the series coder (delta, delta-of-delta for
 *            counters, moving average… whichever is smallest).
 *   DELTA64  v[0] in 64 bits, then the n - 1 wrapping (mod 2^64) differences through the series
 *            coder, when each is within ±2^48: large ids or offsets that change by small steps.
 */
export const INT_RAW = 0
export const INT_SERIES = 1
export const INT_DELTA64 = 2

const TWO_32 = 4294967296

/** The values as numbers when all are within ±MAX_SERIES_ABS, else undefined. */
function toNumbers(values: BigInt64Array): Float64Array | undefined {
  const n = values.length
  const out = new Float64Array(n)
  if (LITTLE_ENDIAN) {
    const words = new Int32Array(values.buffer, values.byteOffset, n * 2)
    for (let i = 0; i < n; i++) {
      const v = (words[2 * i + 1] ?? 0) * TWO_32 + ((words[2 * i] ?? 0) >>> 0)
      if (Math.abs(v) > MAX_SERIES_ABS) return undefined
      out[i] = v
    }
    return out
  }
  const limit = BigInt(MAX_SERIES_ABS)
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? 0n
    if (v > limit || v < -limit) return undefined
    out[i] = Number(v)
  }
  return out
}

/** Writes integer numbers (|v| < 2^53) into a BigInt64Array without a BigInt per value. */
function fromNumbers(nums: Float64Array, out: BigInt64Array): void {
  const n = nums.length
  if (LITTLE_ENDIAN) {
    const words = new Int32Array(out.buffer, out.byteOffset, n * 2)
    for (let i = 0; i < n; i++) {
      const v = nums[i] ?? 0
      words[2 * i] = v >>> 0
      words[2 * i + 1] = Math.floor(v / TWO_32)
    }
    return
  }
  for (let i = 0; i < n; i++) out[i] = BigInt(nums[i] ?? 0)
}

function rawWords(values: BigInt64Array): Uint32Array {
  const n = values.length
  const words = new Uint32Array(n * 2)
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength)
  for (let i = 0; i < n; i++) {
    words[2 * i] = view.getUint32(i * 8 + (LITTLE_ENDIAN ? 4 : 0), LITTLE_ENDIAN)
    words[2 * i + 1] = view.getUint32(i * 8 + (LITTLE_ENDIAN ? 0 : 4), LITTLE_ENDIAN)
  }
  return words
}

/** Encodes the int64 values with the smallest applicable encoding. */
export function encodeInts(values: BigInt64Array): { encoding: number; bytes: Uint8Array } {
  const n = values.length
  const nums = toNumbers(values)
  if (nums !== undefined) {
    const w = new BitWriter()
    writeSeries(w, nums)
    if (w.bitLength <= n * 64) return { encoding: INT_SERIES, bytes: w.finish() }
  }
  const words = rawWords(values)
  const deltas = new Float64Array(Math.max(0, n - 1))
  let fits = true
  const limit = BigInt(MAX_SERIES_ABS)
  for (let i = 1; i < n && fits; i++) {
    const d = BigInt.asIntN(64, (values[i] ?? 0n) - (values[i - 1] ?? 0n))
    fits = d <= limit && d >= -limit
    deltas[i - 1] = Number(d)
  }
  if (fits && n > 1) {
    const w = new BitWriter()
    w.writeFloatBits(words[0] ?? 0, words[1] ?? 0)
    writeSeries(w, deltas)
    if (w.bitLength <= n * 64) return { encoding: INT_DELTA64, bytes: w.finish() }
  }
  const w = new BitWriter()
  for (let i = 0; i < n; i++) w.writeFloatBits(words[2 * i] ?? 0, words[2 * i + 1] ?? 0)
  return { encoding: INT_RAW, bytes: w.finish() }
}

function readInt64(r: BitReader): bigint {
  const hi = r.read(32)
  const lo = r.read(32)
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo))
}

/** Decodes `out.length` int64 values. */
export function decodeInts(r: BitReader, encoding: number, out: BigInt64Array): void {
  const n = out.length
  if (encoding === INT_SERIES) {
    const nums = new Float64Array(n)
    readSeries(r, nums)
    for (let i = 0; i < n; i++) {
      if (!(Math.abs(nums[i] ?? 0) <= MAX_SERIES_ABS)) throw r.corrupt('int value out of range')
    }
    fromNumbers(nums, out)
  } else if (encoding === INT_DELTA64) {
    if (n < 2) throw r.corrupt('DELTA64 needs at least two values')
    let v = readInt64(r)
    out[0] = v
    const deltas = new Float64Array(n - 1)
    readSeries(r, deltas)
    for (let i = 1; i < n; i++) {
      const d = deltas[i - 1] ?? 0
      if (!(Math.abs(d) <= MAX_SERIES_ABS)) throw r.corrupt('int delta out of range')
      v = BigInt.asIntN(64, v + BigInt(d))
      out[i] = v
    }
  } else if (encoding === INT_RAW) {
    for (let i = 0; i < n; i++) out[i] = readInt64(r)
  } else {
    throw r.corrupt(`unknown int encoding ${String(encoding)}`)
  }
  r.checkEnd()
}
