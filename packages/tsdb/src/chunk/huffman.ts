import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'
import { bestRice, MAX_K, readRice, writeRice } from './rice.js'

/**
 * One canonical Huffman code for a whole stream of small unsigned integers, the alternative to
 * Rice blocks for stationary, peaked distributions (timer jitter, sensor noise), where Rice
 * codes lose 0.1–0.2 bit per value against the entropy.
 *
 * Layout: S (6 bits, 2..63), then S code lengths (4 bits each, 0 = unused, at most 12); values
 * below S - 1 are their own symbol, larger ones are the escape symbol S - 1 followed by
 * v - (S - 1) as a Rice code with parameter kEsc (6 bits, after the lengths). Codes are
 * canonical (Deflate's assignment, RFC 1951 §3.2.2), so the lengths define them; the decoder
 * resolves each code with one lookup in a 2^12-entry table.
 */
export const MAX_LENGTH = 12
const SYMBOL_BITS = 6
const LENGTH_BITS = 4
export const MAX_SYMBOLS = 63
/** Fewer values than this never get a Huffman code: the table would outweigh them. */
export const MIN_HUFFMAN_VALUES = 64

export interface HuffmanPlan {
  symbols: number
  lengths: Uint8Array
  codes: Uint32Array
  kEsc: number
  bits: number
}

/**
 * Optimal code lengths (Huffman's algorithm), flattening the counts until none exceeds max.
 * Ties go to the leaf with the lower symbol, then to the older merged node: the two-queue method
 * (van Leeuwen, 1976) in O(s) after sorting the leaves.
 */
export function codeLengths(freq: Float64Array, max: number): Uint8Array {
  const s = freq.length
  if (s > SCRATCH_SYMBOLS) return codeLengthsWith(freq, max, createScratch(s))
  return codeLengthsWith(freq, max, scratch)
}

/** Working arrays of codeLengths, module-level for the common alphabet sizes (never re-entered). */
interface LengthScratch {
  weights: Float64Array
  order: Int32Array
  nodeWeight: Float64Array
  parent: Int32Array
  depth: Uint8Array
}

const SCRATCH_SYMBOLS = 64

function createScratch(s: number): LengthScratch {
  return {
    weights: new Float64Array(s),
    order: new Int32Array(s),
    nodeWeight: new Float64Array(2 * s),
    parent: new Int32Array(2 * s),
    depth: new Uint8Array(2 * s),
  }
}

const scratch = createScratch(SCRATCH_SYMBOLS)

function codeLengthsWith(freq: Float64Array, max: number, work: LengthScratch): Uint8Array {
  const s = freq.length
  const { weights, order, nodeWeight, parent, depth } = work
  weights.set(freq)
  for (;;) {
    const lengths = new Uint8Array(s)
    // The live symbols by (weight, symbol): insertion sort, the alphabet is small.
    let count = 0
    for (let i = 0; i < s; i++) {
      const w = weights[i] ?? 0
      if (w <= 0) continue
      let j = count++
      while (j > 0 && (weights[order[j - 1] ?? 0] ?? 0) > w) {
        order[j] = order[j - 1] ?? 0
        j--
      }
      order[j] = i
    }
    if (count === 1) {
      lengths[order[0] ?? 0] = 1
      return lengths
    }
    if (count === 0) return lengths
    for (let i = 0; i < count; i++) nodeWeight[i] = weights[order[i] ?? 0] ?? 0
    let leaf = 0
    let merged = count
    let next = count
    while (next < 2 * count - 1) {
      let a: number
      let b: number
      if (
        leaf < count &&
        (merged >= next || (nodeWeight[leaf] ?? 0) <= (nodeWeight[merged] ?? 0))
      ) {
        a = leaf++
      } else {
        a = merged++
      }
      if (
        leaf < count &&
        (merged >= next || (nodeWeight[leaf] ?? 0) <= (nodeWeight[merged] ?? 0))
      ) {
        b = leaf++
      } else {
        b = merged++
      }
      nodeWeight[next] = (nodeWeight[a] ?? 0) + (nodeWeight[b] ?? 0)
      parent[a] = next
      parent[b] = next
      next++
    }
    depth[next - 1] = 0
    let fits = true
    for (let i = next - 2; i >= 0; i--) {
      const d = (depth[parent[i] ?? 0] ?? 0) + 1
      depth[i] = d
      if (i < count) {
        lengths[order[i] ?? 0] = d
        if (d > max) fits = false
      }
    }
    if (fits) return lengths
    for (let i = 0; i < s; i++) {
      const w = weights[i] ?? 0
      if (w > 0) weights[i] = Math.ceil(w / 2)
    }
  }
}

/** Canonical codes for the lengths; undefined if they over-subscribe the code space. */
export function canonicalCodes(lengths: Uint8Array): Uint32Array | undefined {
  const codes = new Uint32Array(lengths.length)
  let code = 0
  let kraft = 0
  for (let len = 1; len <= MAX_LENGTH; len++) {
    for (let sym = 0; sym < lengths.length; sym++) {
      if (lengths[sym] !== len) continue
      codes[sym] = code++
      kraft += 2 ** (MAX_LENGTH - len)
    }
    code <<= 1
  }
  return kraft <= 2 ** MAX_LENGTH ? codes : undefined
}

/** The Huffman plan for values[start..end), or undefined when it cannot apply. */
export function planHuffman(
  values: Float64Array,
  start: number,
  end: number,
): HuffmanPlan | undefined {
  if (end - start < MIN_HUFFMAN_VALUES) return undefined
  let max = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    if (v > max) max = v
  }
  const symbols = Math.min(MAX_SYMBOLS, max + 2)
  const esc = symbols - 1
  const freq = new Float64Array(symbols)
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    const sym = v < esc ? v : esc
    freq[sym] = (freq[sym] ?? 0) + 1
  }
  const escapes = freq[esc] ?? 0
  const escaped = new Float64Array(escapes)
  if (escapes > 0) {
    for (let i = start, j = 0; i < end; i++) {
      const v = values[i] ?? 0
      if (v >= esc) escaped[j++] = v - esc
    }
  }
  const [kEsc, escBits] = bestRice(escaped, 0, escaped.length)
  return huffmanPlanOf(freq, kEsc, escBits)
}

/** The plan for symbol counts `freq` (the escape symbol last) and Rice-coded escapes. */
export function huffmanPlanOf(
  freq: Float64Array,
  kEsc: number,
  escBits: number,
): HuffmanPlan | undefined {
  const symbols = freq.length
  const lengths = codeLengths(freq, MAX_LENGTH)
  const codes = canonicalCodes(lengths)
  if (codes === undefined) return undefined
  let bits = SYMBOL_BITS + LENGTH_BITS * symbols + SYMBOL_BITS + escBits
  for (let sym = 0; sym < symbols; sym++) bits += (freq[sym] ?? 0) * (lengths[sym] ?? 0)
  return { symbols, lengths, codes, kEsc, bits }
}

export function writeHuffman(
  w: BitWriter,
  plan: HuffmanPlan,
  values: Float64Array,
  start: number,
  end: number,
): void {
  const { symbols, lengths, codes, kEsc } = plan
  const esc = symbols - 1
  w.write(symbols, SYMBOL_BITS)
  for (let sym = 0; sym < symbols; sym++) w.write(lengths[sym] ?? 0, LENGTH_BITS)
  w.write(kEsc, SYMBOL_BITS)
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    const sym = v < esc ? v : esc
    w.write(codes[sym] ?? 0, lengths[sym] ?? 0)
    if (sym === esc) writeRice(w, v - esc, kEsc)
  }
}

/**
 * The decode table for canonical code lengths: entry = symbol << 4 | length for every 12-bit
 * window starting with that symbol's code; 0 marks a code no symbol has.
 */
export function decodeTable(r: BitReader, lengths: Uint8Array): Uint16Array {
  const codes = canonicalCodes(lengths)
  if (codes === undefined) throw r.corrupt('Huffman code lengths over-subscribe the code space')
  const table = new Uint16Array(1 << MAX_LENGTH)
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym] ?? 0
    if (len === 0) continue
    const from = (codes[sym] ?? 0) << (MAX_LENGTH - len)
    table.fill((sym << 4) | len, from, from + (1 << (MAX_LENGTH - len)))
  }
  return table
}

export function readHuffman(r: BitReader, out: Float64Array, start: number, end: number): void {
  const symbols = r.read(SYMBOL_BITS)
  if (symbols < 2 || symbols > MAX_SYMBOLS)
    throw r.corrupt(`Huffman alphabet of ${String(symbols)}`)
  const lengths = new Uint8Array(symbols)
  for (let sym = 0; sym < symbols; sym++) {
    const len = r.read(LENGTH_BITS)
    if (len > MAX_LENGTH) throw r.corrupt(`Huffman code length ${String(len)}`)
    lengths[sym] = len
  }
  const kEsc = r.read(SYMBOL_BITS)
  if (kEsc > MAX_K) throw r.corrupt(`Rice parameter ${String(kEsc)} out of range`)
  const table = decodeTable(r, lengths)
  const esc = symbols - 1
  const words = r.words
  let pos = r.pos
  for (let i = start; i < end; i++) {
    const wi = pos >>> 5
    const o = pos & 31
    const a = words[wi] ?? 0
    const w = o === 0 ? a : (a << o) | ((words[wi + 1] ?? 0) >>> (32 - o))
    const entry = table[w >>> (32 - MAX_LENGTH)] ?? 0
    const len = entry & 15
    if (len === 0) throw r.corrupt('invalid Huffman code')
    pos += len
    const sym = entry >>> 4
    if (sym === esc) {
      r.pos = pos
      out[i] = esc + readRice(r, kEsc)
      pos = r.pos
    } else {
      out[i] = sym
    }
  }
  r.pos = pos
}
