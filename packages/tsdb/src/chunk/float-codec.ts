import { LITTLE_ENDIAN, type BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import { MAX_SERIES_ABS, readSeries, writeSeries } from './int-series.js'
import { readUints, writeUints } from './uint-coder.js'
import { readXor, writeXor } from './xor-codec.js'

/**
 * Float64 encodings; every one round-trips bit for bit.
 *
 *   RAW  n × 64 bits.
 *   XOR  Gorilla (Pelkonen et al., VLDB 2015): XOR with the previous value, leading/trailing
 *        zero windows. The fallback for floats that are not decimals.
 *   ALP  Adaptive Lossless floating-Point (Afroozeh, Kuffó, Boncz, SIGMOD 2024), simplified to
 *        one exponent per chunk: a value v is stored as the integer m with v === m / 10^e,
 *        checked per value at encode time with that exact decode formula. Layout: e (5 bits),
 *        exception count (21 bits), exception positions as gaps (uint-coder), the exceptions'
 *        64 raw bits each, then the n integers m through the series coder (an exception takes
 *        the previous m, so it costs nothing there). NaN, ±Inf, -0 and values with more
 *        decimals than e are exceptions.
 */
export const FLOAT_RAW = 0
export const FLOAT_XOR = 1
export const FLOAT_ALP = 2

const EXP_BITS = 5
const MAX_EXP = 18
const COUNT_BITS = 21
const SAMPLE = 1024
const POW10: readonly number[] = Array.from({ length: MAX_EXP + 1 }, (_, e) => 10 ** e)

/** The two 32-bit halves of each float, high word first. */
export function floatWords(values: Float64Array): { hi: Uint32Array; lo: Uint32Array } {
  const n = values.length
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2)
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  const h = LITTLE_ENDIAN ? 1 : 0
  for (let i = 0; i < n; i++) {
    hi[i] = words[2 * i + h] ?? 0
    lo[i] = words[2 * i + 1 - h] ?? 0
  }
  return { hi, lo }
}

function isExact(v: number, e: number): boolean {
  const p = POW10[e] ?? 1
  const m = Math.round(v * p)
  return Math.abs(m) <= MAX_SERIES_ABS && m / p === v && (v !== 0 || 1 / v > 0)
}

/** Up to two exponents worth trying: the smallest that fits the most values, and a cheaper one. */
function exponentCandidates(values: Float64Array): number[] {
  const n = values.length
  const step = Math.max(1, Math.floor(n / SAMPLE))
  const counts: number[] = []
  for (let e = 0; e <= MAX_EXP; e++) {
    let c = 0
    for (let i = 0; i < n; i += step) if (isExact(values[i] ?? 0, e)) c++
    counts.push(c)
  }
  const most = Math.max(...counts)
  if (most === 0) return []
  const full = counts.findIndex((c) => c >= most)
  const near = counts.findIndex((c) => c >= most * 0.95)
  return near === full ? [full] : [near, full]
}

function writeAlp(w: BitWriter, values: Float64Array, e: number): void {
  const n = values.length
  const p = POW10[e] ?? 1
  const m = new Float64Array(n)
  const exceptions: number[] = []
  let last = NaN
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? 0
    if (isExact(v, e)) {
      last = Math.round(v * p)
      m[i] = last
    } else {
      exceptions.push(i)
      m[i] = last
    }
  }
  // Leading exceptions take the first exact value's m.
  const firstExact = m.findIndex((x) => !Number.isNaN(x))
  if (firstExact < 0) m.fill(0)
  else m.fill(m[firstExact] ?? 0, 0, firstExact)
  w.write(e, EXP_BITS)
  w.write(exceptions.length, COUNT_BITS)
  const gaps = new Float64Array(exceptions.length)
  for (let j = 0; j < exceptions.length; j++) {
    gaps[j] = (exceptions[j] ?? 0) - (j === 0 ? 0 : (exceptions[j - 1] ?? 0) + 1)
  }
  writeUints(w, gaps)
  if (exceptions.length > 0) {
    const { hi, lo } = floatWords(Float64Array.from(exceptions, (i) => values[i] ?? 0))
    for (let j = 0; j < exceptions.length; j++) w.writeFloatBits(hi[j] ?? 0, lo[j] ?? 0)
  }
  writeSeries(w, m)
}

/** Encodes the floats with the smallest of ALP (if they look decimal), XOR and RAW. */
export function encodeFloats(values: Float64Array): { encoding: number; bytes: Uint8Array } {
  const n = values.length
  const { hi, lo } = floatWords(values)
  const candidates: { encoding: number; writer: BitWriter }[] = []
  for (const e of exponentCandidates(values)) {
    const writer = new BitWriter()
    writeAlp(writer, values, e)
    candidates.push({ encoding: FLOAT_ALP, writer })
  }
  // XOR only wins on floats that are not decimals, where ALP costs more than 2 bytes a value.
  if (candidates.every((c) => c.writer.bitLength > n * 16)) {
    const xor = new BitWriter()
    writeXor(xor, hi, lo)
    candidates.push({ encoding: FLOAT_XOR, writer: xor })
  }
  let best = candidates[0]
  for (const c of candidates) {
    if (best === undefined || c.writer.bitLength < best.writer.bitLength) best = c
  }
  if (best !== undefined && best.writer.bitLength <= n * 64) {
    return { encoding: best.encoding, bytes: best.writer.finish() }
  }
  const raw = new BitWriter()
  for (let i = 0; i < n; i++) raw.writeFloatBits(hi[i] ?? 0, lo[i] ?? 0)
  return { encoding: FLOAT_RAW, bytes: raw.finish() }
}

/** Decodes `out.length` floats. */
export function decodeFloats(r: BitReader, encoding: number, out: Float64Array): void {
  const n = out.length
  if (encoding === FLOAT_ALP) {
    readAlp(r, out)
  } else if (encoding === FLOAT_XOR || encoding === FLOAT_RAW) {
    const hi = new Uint32Array(n)
    const lo = new Uint32Array(n)
    if (encoding === FLOAT_XOR) {
      readXor(r, hi, lo)
    } else {
      for (let i = 0; i < n; i++) {
        hi[i] = r.read(32)
        lo[i] = r.read(32)
      }
    }
    joinWords(hi, lo, out)
  } else {
    throw r.corrupt(`unknown float encoding ${String(encoding)}`)
  }
  r.checkEnd()
}

function joinWords(hi: Uint32Array, lo: Uint32Array, out: Float64Array): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2)
  const h = LITTLE_ENDIAN ? 1 : 0
  for (let i = 0; i < out.length; i++) {
    words[2 * i + h] = hi[i] ?? 0
    words[2 * i + 1 - h] = lo[i] ?? 0
  }
}

function readAlp(r: BitReader, out: Float64Array): void {
  const n = out.length
  const e = r.read(EXP_BITS)
  if (e > MAX_EXP) throw r.corrupt(`ALP exponent ${String(e)} out of range`)
  const count = r.read(COUNT_BITS)
  if (count > n) throw r.corrupt(`${String(count)} exceptions for ${String(n)} values`)
  const positions = new Float64Array(count)
  readUints(r, positions)
  let pos = -1
  for (let j = 0; j < count; j++) {
    pos += (positions[j] ?? 0) + 1
    if (pos >= n) throw r.corrupt(`exception position ${String(pos)} out of range`)
    positions[j] = pos
  }
  const hi = new Uint32Array(count)
  const lo = new Uint32Array(count)
  for (let j = 0; j < count; j++) {
    hi[j] = r.read(32)
    lo[j] = r.read(32)
  }
  r.check()
  readSeries(r, out)
  const p = POW10[e] ?? 1
  for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) / p
  if (count > 0) {
    const raw = new Float64Array(count)
    joinWords(hi, lo, raw)
    for (let j = 0; j < count; j++) out[positions[j] ?? 0] = raw[j] ?? 0
  }
}
