import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'
import { canonicalCodes, codeLengths, decodeTable, MAX_LENGTH } from './huffman.js'
import { bestRice, MAX_K, readRice, writeRice } from './rice.js'

/**
 * A canonical Huffman code over pairs of values, for skewed streams with under ~2 bits of
 * entropy per value (quantised gauges that flicker between two readings, slow counters), where
 * a code per value cannot go below 1 bit and would ignore that a +1 is usually followed by a -1.
 * A pair (a, b) with both below BASE is symbol a·BASE + b; any other pair is the escape symbol
 * followed by a and b as Rice codes with parameter kEsc. An odd last value is paired with 0.
 *
 * Layout: PAIR_SYMBOLS code lengths (4 bits each, 0 = unused), kEsc (6 bits), then the codes.
 */
export const BASE = 7
const ESC = BASE * BASE
export const PAIR_SYMBOLS = ESC + 1
const LENGTH_BITS = 4
const K_BITS = 6
export const MIN_PAIR_VALUES = 128

export interface PairPlan {
  lengths: Uint8Array
  codes: Uint32Array
  kEsc: number
  bits: number
}

function symbolOf(a: number, b: number): number {
  return a < BASE && b < BASE ? a * BASE + b : ESC
}

export function planPairs(values: Float64Array, start: number, end: number): PairPlan | undefined {
  if (end - start < MIN_PAIR_VALUES) return undefined
  const freq = new Float64Array(PAIR_SYMBOLS)
  for (let i = start; i < end; i += 2) {
    const a = values[i] ?? 0
    const b = i + 1 < end ? (values[i + 1] ?? 0) : 0
    const sym = symbolOf(a, b)
    freq[sym] = (freq[sym] ?? 0) + 1
  }
  const escapes = freq[ESC] ?? 0
  const escaped = new Float64Array(2 * escapes)
  if (escapes > 0) {
    for (let i = start, j = 0; i < end; i += 2) {
      const a = values[i] ?? 0
      const b = i + 1 < end ? (values[i + 1] ?? 0) : 0
      if (symbolOf(a, b) === ESC) {
        escaped[j++] = a
        escaped[j++] = b
      }
    }
  }
  const [kEsc, escBits] = bestRice(escaped, 0, escaped.length)
  return pairPlanOf(freq, kEsc, escBits)
}

/** The plan for pair-symbol counts `freq` (PAIR_SYMBOLS of them) and Rice-coded escapes. */
export function pairPlanOf(
  freq: Float64Array,
  kEsc: number,
  escBits: number,
): PairPlan | undefined {
  const lengths = codeLengths(freq, MAX_LENGTH)
  const codes = canonicalCodes(lengths)
  if (codes === undefined) return undefined
  let bits = LENGTH_BITS * PAIR_SYMBOLS + K_BITS + escBits
  for (let sym = 0; sym < PAIR_SYMBOLS; sym++) bits += (freq[sym] ?? 0) * (lengths[sym] ?? 0)
  return { lengths, codes, kEsc, bits }
}

export function writePairs(
  w: BitWriter,
  plan: PairPlan,
  values: Float64Array,
  start: number,
  end: number,
): void {
  const { lengths, codes, kEsc } = plan
  for (let sym = 0; sym < PAIR_SYMBOLS; sym++) w.write(lengths[sym] ?? 0, LENGTH_BITS)
  w.write(kEsc, K_BITS)
  for (let i = start; i < end; i += 2) {
    const a = values[i] ?? 0
    const b = i + 1 < end ? (values[i + 1] ?? 0) : 0
    const sym = symbolOf(a, b)
    w.write(codes[sym] ?? 0, lengths[sym] ?? 0)
    if (sym === ESC) {
      writeRice(w, a, kEsc)
      writeRice(w, b, kEsc)
    }
  }
}

export function readPairs(r: BitReader, out: Float64Array, start: number, end: number): void {
  const lengths = new Uint8Array(PAIR_SYMBOLS)
  for (let sym = 0; sym < PAIR_SYMBOLS; sym++) {
    const len = r.read(LENGTH_BITS)
    if (len > MAX_LENGTH) throw r.corrupt(`Huffman code length ${String(len)}`)
    lengths[sym] = len
  }
  const kEsc = r.read(K_BITS)
  if (kEsc > MAX_K) throw r.corrupt(`Rice parameter ${String(kEsc)} out of range`)
  const table = decodeTable(r, lengths)
  const words = r.words
  let pos = r.pos
  for (let i = start; i < end; i += 2) {
    const wi = pos >>> 5
    const o = pos & 31
    const x = words[wi] ?? 0
    const w = o === 0 ? x : (x << o) | ((words[wi + 1] ?? 0) >>> (32 - o))
    const entry = table[w >>> (32 - MAX_LENGTH)] ?? 0
    const len = entry & 15
    if (len === 0) throw r.corrupt('invalid Huffman code')
    pos += len
    const sym = entry >>> 4
    let a: number
    let b: number
    if (sym === ESC) {
      r.pos = pos
      a = readRice(r, kEsc)
      b = readRice(r, kEsc)
      pos = r.pos
    } else {
      a = (sym / BASE) | 0
      b = sym - a * BASE
    }
    out[i] = a
    if (i + 1 < end) out[i + 1] = b
  }
  r.pos = pos
}
