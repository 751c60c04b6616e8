import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'
import { readHuffman, writeHuffman } from './huffman.js'
import { readPairs, writePairs } from './pair-huffman.js'
import { ESCAPE_Q, MAX_K, pow2, RAW_BITS, readRice, writeRice } from './rice.js'
import {
  BLOCK_SIZES,
  HUFFMAN,
  KR_BITS,
  MODE_BITS,
  MODE_SPARSE,
  MODE_ZERO,
  PAIRS,
  type StreamPlan,
} from './uint-blocks.js'
import { planStream } from './uint-plan.js'

/**
 * The integer coder every encoding shares, for unsigned integers below 2^53. A stream starts
 * with 2 bits: 2 = one canonical Huffman code for the whole stream (huffman.ts); 3 = a Huffman
 * code over pairs of values (pair-huffman.ts); 0 or 1 =
 * block-adaptive Rice coding with blocks of 128 or 1024 values (short blocks follow changing
 * statistics, long ones cost less in headers), where each block starts with a 6-bit mode:
 *
 *   0..53   Rice codes with parameter k (rice.ts).
 *   ZERO    every value is 0: nothing follows.
 *   SPARSE  4-bit kr, 6-bit kv, then pairs (zero run length: Rice kr, value - 1: Rice kv) until
 *           the block is full; a trailing run of zeros has no value after it.
 *
 * Rice codes are within ~0.1 bit of the entropy for geometric and discretised Gaussian
 * residuals; SPARSE brings mostly-zero streams (repeated values, regular clocks, missed
 * samples) down to a few bits per change. See Rice, "Some practical universal noiseless coding
 * techniques" (JPL 79-22, 1979) and the adaptive Rice stage of FLAC.
 */
const STREAM_BITS = 2

/** How writeUints would code values[start..end); `bits` is the exact size. */
export interface UintsPlan {
  readonly bits: number
  readonly stream: StreamPlan
}

function asFloat64(values: ArrayLike<number>): Float64Array {
  return values instanceof Float64Array ? values : Float64Array.from(values)
}

/** Plans the coding of values[start..end) without writing; pass the plan to writeUints. */
export function planUints(values: ArrayLike<number>, start = 0, end = values.length): UintsPlan {
  const stream = planStream(asFloat64(values), start, end)
  return { bits: STREAM_BITS + stream.bits, stream }
}

/** Writes values[start..end) (unsigned integers < 2^53). The reader must know the count. */
export function writeUints(
  w: BitWriter,
  values: ArrayLike<number>,
  start = 0,
  end = values.length,
  plan: UintsPlan = planUints(values, start, end),
): void {
  const v = asFloat64(values)
  const { sizeIndex, blocks, huffman, pairs } = plan.stream
  w.write(sizeIndex, STREAM_BITS)
  if (huffman !== undefined) {
    writeHuffman(w, huffman, v, start, end)
    return
  }
  if (pairs !== undefined) {
    writePairs(w, pairs, v, start, end)
    return
  }
  const block = BLOCK_SIZES[sizeIndex] ?? 128
  let b = start
  for (const plan of blocks) {
    w.write(plan.mode, MODE_BITS)
    const e = Math.min(end, b + block)
    if (plan.pairs !== undefined) {
      const p = plan.pairs
      w.write(plan.kr, KR_BITS)
      w.write(plan.kv, MODE_BITS)
      for (let j = 0; j < p.length; j++) {
        writeRice(w, p[j] ?? 0, (j & 1) === 0 ? plan.kr : plan.kv)
      }
    } else if (plan.mode !== MODE_ZERO) {
      const k = plan.mode
      for (let i = b; i < e; i++) writeRice(w, v[i] ?? 0, k)
    }
    b = e
  }
}

/** Reads `end - start` values written by writeUints into out[start..end). */
export function readUints(r: BitReader, out: Float64Array, start = 0, end = out.length): void {
  const kind = r.read(STREAM_BITS)
  if (kind === HUFFMAN || kind === PAIRS) {
    if (kind === HUFFMAN) readHuffman(r, out, start, end)
    else readPairs(r, out, start, end)
    r.check()
    return
  }
  const block = BLOCK_SIZES[kind]
  if (block === undefined) throw r.corrupt(`unknown integer stream kind ${String(kind)}`)
  for (let b = start; b < end; b += block) {
    const e = Math.min(end, b + block)
    const mode = r.read(MODE_BITS)
    if (mode === MODE_ZERO) {
      out.fill(0, b, e)
    } else if (mode === MODE_SPARSE) {
      readSparse(r, out, b, e)
    } else if (mode <= MAX_K) {
      readRiceBlock(r, out, b, e, mode)
    } else {
      throw r.corrupt(`unknown integer block mode ${String(mode)}`)
    }
    r.check()
  }
}

function readSparse(r: BitReader, out: Float64Array, b: number, e: number): void {
  const kr = r.read(KR_BITS)
  const kv = r.read(MODE_BITS)
  if (kv > MAX_K) throw r.corrupt(`Rice parameter ${String(kv)} out of range`)
  let i = b
  while (i < e) {
    const run = readRice(r, kr)
    if (run > e - i) throw r.corrupt(`zero run of ${String(run)} overflows its block`)
    out.fill(0, i, i + run)
    i += run
    if (i < e) {
      const v = readRice(r, kv) + 1
      if (v > Number.MAX_SAFE_INTEGER) throw r.corrupt('value out of range')
      out[i++] = v
    }
  }
}

/** The hot loop: one 32-bit window per value when q + 1 + k ≤ 32. */
function readRiceBlock(r: BitReader, out: Float64Array, b: number, e: number, k: number): void {
  const words = r.words
  let pos = r.pos
  const scale = pow2(k)
  for (let i = b; i < e; i++) {
    const wi = pos >>> 5
    const o = pos & 31
    const a = words[wi] ?? 0
    const w = o === 0 ? a : (a << o) | ((words[wi + 1] ?? 0) >>> (32 - o))
    const q = Math.clz32(~w)
    if (q >= ESCAPE_Q) {
      r.pos = pos + ESCAPE_Q
      out[i] = r.readLong(RAW_BITS)
      pos = r.pos
    } else if (q + 1 + k <= 32) {
      out[i] = k === 0 ? q : q * scale + ((w << (q + 1)) >>> (32 - k))
      pos += q + 1 + k
    } else {
      r.pos = pos + q + 1
      out[i] = q * scale + r.readLong(k)
      pos = r.pos
    }
  }
  r.pos = pos
}
