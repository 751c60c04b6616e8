import { LITTLE_ENDIAN, type BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import {
  estimateSeriesBits,
  MAX_SERIES_ABS,
  planSeriesBits,
  readSeries,
  sampledMedian,
  unzigzag,
  writePlannedSeries,
  zigzag,
} from './int-series.js'
import { readUints, writeUints } from './uint-coder.js'

/**
 * Timestamp encodings. The chunk header holds the first and last timestamp; each encoding stores
 * the offsets o[i] = t[i] - t[0] (all below 2^48 unless RAW):
 *
 *   RAW     n float64s (any span)
 *   SERIES  the offsets through the series coder: delta minus the median period (a sleep-driven
 *           timer whose jitter accumulates), delta minus the shortest gap (event-driven series:
 *           exponential inter-arrival times cost close to their entropy) or delta-of-delta
 *           (Gorilla's scheme, for a slowly changing period)
 *   GRID    period P (49 bits), phase c (zigzag, 50 bits), then the missed-slot counts
 *           g[i] = k[i] - k[i-1] - 1 (i ≥ 1) and zigzag(o[i] - k[i] P - c) (all i): a
 *           fixed-rate timer with scheduling jitter and missed samples, where the jitter of
 *           each sample is coded once instead of twice as with deltas.
 */
export const TS_RAW = 0
export const TS_SERIES = 1
export const TS_GRID = 2
export const TS_ENCODINGS = 3

const PERIOD_BITS = 49
const PHASE_BITS = 50
/** Try the series coder when its estimate is under this multiple of the grid's exact size. */
const SERIES_MARGIN = 1.05

/**
 * Scratch (module-level, reused: encoding is synchronous and never nests): the offsets and their
 * deltas, and the grid's arrays. A fresh zeroed array per chunk costs more than the loops over it.
 */
let offsets = new Float64Array(1024)
let deltaScratch = new Float64Array(1024)
let slots = new Float64Array(1024)
let phase = new Float64Array(1024)
let gaps = new Float64Array(1024)

/** Returns undefined when the series does not sit on a grid of period p. */
function writeGrid(o: Float64Array, period: number): BitWriter | undefined {
  const n = o.length
  if (period < 1) return undefined
  if (slots.length < n) {
    slots = new Float64Array(Math.max(n, 2 * slots.length))
    phase = new Float64Array(slots.length)
    gaps = new Float64Array(slots.length)
  }
  for (let i = 0; i < n; i++) {
    const k = Math.round((o[i] ?? 0) / period)
    if (i > 0 && k <= (slots[i - 1] ?? 0)) return undefined
    slots[i] = k
    phase[i] = (o[i] ?? 0) - k * period
  }
  const c = sampledMedian(phase, 0, n)
  for (let i = 1; i < n; i++) gaps[i - 1] = (slots[i] ?? 0) - (slots[i - 1] ?? 0) - 1
  for (let i = 0; i < n; i++) phase[i] = zigzag((phase[i] ?? 0) - c)
  const w = new BitWriter()
  w.writeLong(period, PERIOD_BITS)
  w.writeLong(zigzag(c), PHASE_BITS)
  writeUints(w, gaps, 0, Math.max(0, n - 1))
  writeUints(w, phase, 0, n)
  return w
}

/** The offsets from the first timestamp, SERIES or GRID, whichever is smaller. */
function encodeOffsets(o: Float64Array): { encoding: number; bytes: Uint8Array } {
  const n = o.length
  if (deltaScratch.length < n) deltaScratch = new Float64Array(Math.max(n, 2 * deltaScratch.length))
  const deltas = deltaScratch.subarray(0, Math.max(0, n - 1))
  for (let i = 1; i < n; i++) deltas[i - 1] = (o[i] ?? 0) - (o[i - 1] ?? 0)
  const period = sampledMedian(deltas)
  const periods = [period]
  const lastSlot = Math.round((o[n - 1] ?? 0) / Math.max(1, period))
  if (lastSlot > 0) periods.push(Math.round((o[n - 1] ?? 0) / lastSlot))
  let grid: BitWriter | undefined
  for (const p of new Set(periods)) {
    const w = writeGrid(o, p)
    if (w !== undefined && (grid === undefined || w.bitLength < grid.bitLength)) grid = w
  }
  // A timer's grid codes each jitter once, deltas twice: skip the series coder unless its
  // estimate comes close (always try it on short series, where there is no estimate).
  const estimate = grid === undefined ? undefined : estimateSeriesBits(o)
  if (grid === undefined || estimate === undefined || estimate < grid.bitLength * SERIES_MARGIN) {
    // Planned first (its exact size), written only when it wins: ties go to SERIES, as the
    // first candidate.
    const series = planSeriesBits(o)
    if (grid === undefined || series.bits <= grid.bitLength) {
      const w = new BitWriter()
      writePlannedSeries(w, series)
      return { encoding: TS_SERIES, bytes: w.finish() }
    }
  }
  return { encoding: TS_GRID, bytes: grid.finish() }
}

/** Encodes strictly increasing safe-integer timestamps; returns the encoding and its bytes. */
export function encodeTimestamps(ts: Float64Array): { encoding: number; bytes: Uint8Array } {
  const n = ts.length
  const t0 = ts[0] ?? 0
  if ((ts[n - 1] ?? 0) - t0 <= MAX_SERIES_ABS) {
    if (offsets.length < n) offsets = new Float64Array(Math.max(n, 2 * offsets.length))
    const o = offsets.subarray(0, n)
    for (let i = 0; i < n; i++) o[i] = (ts[i] ?? 0) - t0
    const best = encodeOffsets(o)
    if (best.bytes.length < n * 8) return best
  }
  const raw = new BitWriter()
  const f = new Float64Array(1)
  const u = new Uint32Array(f.buffer)
  const hi = LITTLE_ENDIAN ? 1 : 0
  for (let i = 0; i < n; i++) {
    f[0] = ts[i] ?? 0
    raw.writeFloatBits(u[hi] ?? 0, u[1 - hi] ?? 0)
  }
  return { encoding: TS_RAW, bytes: raw.finish() }
}

/**
 * Decodes `out.length` timestamps and checks them against the header: strictly increasing,
 * starting at minTime and ending at maxTime (which also proves they are all safe integers).
 */
export function decodeTimestamps(
  r: BitReader,
  encoding: number,
  minTime: number,
  maxTime: number,
  out: Float64Array,
): void {
  const n = out.length
  if (encoding === TS_RAW) {
    const f = new Float64Array(1)
    const u = new Uint32Array(f.buffer)
    const hi = LITTLE_ENDIAN ? 1 : 0
    for (let i = 0; i < n; i++) {
      u[hi] = r.read(32)
      u[1 - hi] = r.read(32)
      out[i] = f[0] ?? 0
    }
    r.check()
  } else if (encoding === TS_SERIES) {
    readSeries(r, out)
    for (let i = 0; i < n; i++) out[i] = minTime + (out[i] ?? 0)
  } else if (encoding === TS_GRID) {
    readGrid(r, minTime, out)
    r.checkEnd()
    if (out[n - 1] !== maxTime) throw r.corrupt('last timestamp does not match header maxTime')
    return
  } else {
    throw r.corrupt(`unknown timestamp encoding ${String(encoding)}`)
  }
  r.checkEnd()
  let prev = -Infinity
  for (let i = 0; i < n; i++) {
    const t = out[i] ?? 0
    if (!(t > prev)) throw r.corrupt(`timestamp ${String(i)} is not after the one before`)
    prev = t
  }
  if (out[0] !== minTime || prev !== maxTime) {
    throw r.corrupt('timestamps do not match the header minTime/maxTime')
  }
}

function readGrid(r: BitReader, minTime: number, out: Float64Array): void {
  const n = out.length
  const period = r.readLong(PERIOD_BITS)
  const c = unzigzag(r.readLong(PHASE_BITS))
  const gaps = new Float64Array(n)
  readUints(r, gaps, 1, n)
  readUints(r, out, 0, n)
  // Reconstruct and check order in one pass; the caller checks the last one against maxTime.
  let prev = minTime + (c + unzigzag(out[0] ?? 0))
  if (prev !== minTime) throw r.corrupt('first timestamp does not match header minTime')
  out[0] = prev
  let slot = 0
  for (let i = 1; i < n; i++) {
    slot += 1 + (gaps[i] ?? 0)
    const t = minTime + (slot * period + c + unzigzag(out[i] ?? 0))
    if (!(t > prev)) throw r.corrupt(`timestamp ${String(i)} is not after the one before`)
    out[i] = t
    prev = t
  }
}
