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

/** Exact-count histogram scratch: counts[e] = sampled values exact at exponent e. */
const counts = new Float64Array(MAX_EXP + 2)
const bits64 = new Float64Array(1)
const bitWords = new Uint32Array(bits64.buffer)
const HI = LITTLE_ENDIAN ? 1 : 0

/**
 * The smallest exponent at which v is exact, or -1. Exactness holds from there up until
 * |v|·10^e passes MAX_SERIES_ABS: m/10^e and 10m/10^(e+1) are correctly rounded quotients of
 * the same number.
 */
function smallestExponent(v: number): number {
  for (let e = 0; e <= MAX_EXP; e++) if (isExact(v, e)) return e
  return -1
}

function isOver(a: number, e: number): boolean {
  return Math.round(a * (POW10[e] ?? 1)) > MAX_SERIES_ABS
}

/** The smallest e in (e0, MAX_EXP + 1] with |m| over MAX_SERIES_ABS (MAX_EXP + 1: none). */
function limitExponent(a: number, e0: number): number {
  if (a === 0) return MAX_EXP + 1
  let e = Math.max(e0 + 1, Math.min(MAX_EXP + 1, Math.floor(Math.log10(MAX_SERIES_ABS / a)) + 1))
  while (e > e0 + 1 && isOver(a, e - 1)) e--
  while (e <= MAX_EXP && !isOver(a, e)) e++
  return e
}

/** Up to two exponents worth trying: the smallest that fits the most values, and a cheaper one. */
function exponentCandidates(values: Float64Array): number[] {
  const n = values.length
  const step = Math.max(1, Math.floor(n / SAMPLE))
  counts.fill(0)
  for (let i = 0; i < n; i += step) {
    const v = values[i] ?? 0
    const e0 = smallestExponent(v)
    if (e0 < 0) continue
    counts[e0] = (counts[e0] ?? 0) + 1
    // The first exponent where v's mantissa grows past the limit stops counting it.
    const e1 = limitExponent(Math.abs(v), e0)
    counts[e1] = (counts[e1] ?? 0) - 1
  }
  let most = 0
  let running = 0
  for (let e = 0; e <= MAX_EXP; e++) {
    running += counts[e] ?? 0
    counts[e] = running
    if (running > most) most = running
  }
  if (most === 0) return []
  let full = -1
  let near = -1
  for (let e = 0; e <= MAX_EXP && full < 0; e++) {
    const c = counts[e] ?? 0
    if (near < 0 && c >= most * 0.95) near = e
    if (c >= most) full = e
  }
  return near === full ? [full] : [near, full]
}

function writeFloatBits(w: BitWriter, v: number): void {
  bits64[0] = v
  w.writeFloatBits(bitWords[HI] ?? 0, bitWords[1 - HI] ?? 0)
}

let mantissas = new Float64Array(1024)
let exceptions = new Int32Array(1024)
let gaps = new Float64Array(1024)

function writeAlp(w: BitWriter, values: Float64Array, e: number): void {
  const n = values.length
  const p = POW10[e] ?? 1
  if (mantissas.length < n) {
    mantissas = new Float64Array(Math.max(n, 2 * mantissas.length))
    exceptions = new Int32Array(mantissas.length)
    gaps = new Float64Array(mantissas.length)
  }
  const m = mantissas.subarray(0, n)
  let count = 0
  let last = NaN
  let firstExact = -1
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? 0
    if (isExact(v, e)) {
      last = Math.round(v * p)
      if (firstExact < 0) firstExact = i
    } else {
      exceptions[count++] = i
    }
    m[i] = last
  }
  // Leading exceptions take the first exact value's m.
  if (firstExact < 0) m.fill(0)
  else m.fill(m[firstExact] ?? 0, 0, firstExact)
  w.write(e, EXP_BITS)
  w.write(count, COUNT_BITS)
  for (let j = 0; j < count; j++) {
    gaps[j] = (exceptions[j] ?? 0) - (j === 0 ? 0 : (exceptions[j - 1] ?? 0) + 1)
  }
  writeUints(w, gaps, 0, count)
  for (let j = 0; j < count; j++) writeFloatBits(w, values[exceptions[j] ?? 0] ?? 0)
  writeSeries(w, m)
}

/** Encodes the floats with the smallest of ALP (if they look decimal), XOR and RAW. */
export function encodeFloats(values: Float64Array): { encoding: number; bytes: Uint8Array } {
  const n = values.length
  let best: BitWriter | undefined
  let encoding = FLOAT_RAW
  for (const e of exponentCandidates(values)) {
    const writer = new BitWriter(n)
    writeAlp(writer, values, e)
    if (best === undefined || writer.bitLength < best.bitLength) {
      best = writer
      encoding = FLOAT_ALP
    }
  }
  // XOR only wins on floats that are not decimals, where ALP costs more than 2 bytes a value.
  if (best === undefined || best.bitLength > n * 16) {
    const { hi, lo } = floatWords(values)
    const xor = new BitWriter(n * 2)
    writeXor(xor, hi, lo)
    if (best === undefined || xor.bitLength < best.bitLength) {
      best = xor
      encoding = FLOAT_XOR
    }
  }
  if (best.bitLength <= n * 64) {
    return { encoding, bytes: best.finish() }
  }
  const raw = new BitWriter(n * 2)
  for (let i = 0; i < n; i++) writeFloatBits(raw, values[i] ?? 0)
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
