import type { BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import { invalidChunkData } from './chunk-error.js'
import { readSeries, writeSeries } from './int-series.js'
import { readUints, writeUints } from './uint-coder.js'

/**
 * String encoding DICT_RLE: the distinct strings in order of first use (count: 21 bits, UTF-8
 * byte lengths: uint-coder, then the bytes), then the runs of equal values (count: 21 bits,
 * dictionary codes: series coder, lengths - 1: uint-coder). "ok" for a day with one "fault"
 * costs three runs.
 */
export const STRING_DICT_RLE = 0

/** Longest string a chunk stores, in UTF-8 bytes. */
export const MAX_STRING_BYTES = 256

const COUNT_BITS = 21
const LONE_SURROGATE = /\p{Cs}/u

export function encodeStrings(values: readonly string[]): { encoding: number; bytes: Uint8Array } {
  const encoder = new TextEncoder()
  const dict = new Map<string, number>()
  const encoded: Uint8Array[] = []
  const codes: number[] = []
  const runs: number[] = []
  for (let i = 0; i < values.length; i++) {
    const s = values[i]
    if (typeof s !== 'string') throw invalidChunkData(`value ${String(i)} is not a string`)
    let code = dict.get(s)
    if (code === undefined) {
      if (LONE_SURROGATE.test(s)) {
        throw invalidChunkData(`string ${String(i)} has a lone surrogate (not valid UTF-8)`)
      }
      const bytes = encoder.encode(s)
      if (bytes.length > MAX_STRING_BYTES) {
        throw invalidChunkData(
          `string ${String(i)} is ${String(bytes.length)} bytes, over ${String(MAX_STRING_BYTES)}`,
        )
      }
      code = dict.size
      dict.set(s, code)
      encoded.push(bytes)
    }
    if (i > 0 && code === codes[codes.length - 1]) {
      runs[runs.length - 1] = (runs[runs.length - 1] ?? 0) + 1
    } else {
      codes.push(code)
      runs.push(0)
    }
  }
  const w = new BitWriter()
  w.write(encoded.length, COUNT_BITS)
  writeUints(
    w,
    encoded.map((b) => b.length),
  )
  for (const bytes of encoded) for (const b of bytes) w.write(b, 8)
  w.write(codes.length, COUNT_BITS)
  writeSeries(w, codes)
  writeUints(w, runs)
  return { encoding: STRING_DICT_RLE, bytes: w.finish() }
}

export function decodeStrings(r: BitReader, encoding: number, out: string[]): void {
  if (encoding !== STRING_DICT_RLE) throw r.corrupt(`unknown string encoding ${String(encoding)}`)
  const n = out.length
  const size = r.read(COUNT_BITS)
  if (size < 1 || size > n) throw r.corrupt(`dictionary of ${String(size)} for ${String(n)} values`)
  const lengths = new Float64Array(size)
  readUints(r, lengths)
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  const dict: string[] = []
  for (let j = 0; j < size; j++) {
    const len = lengths[j] ?? 0
    if (len > MAX_STRING_BYTES) throw r.corrupt(`dictionary string of ${String(len)} bytes`)
    const bytes = new Uint8Array(len)
    for (let b = 0; b < len; b++) bytes[b] = r.read(8)
    r.check()
    try {
      dict.push(decoder.decode(bytes))
    } catch (err) {
      throw r.corrupt(`dictionary string ${String(j)} is not UTF-8 (${String(err)})`)
    }
  }
  const count = r.read(COUNT_BITS)
  if (count < 1 || count > n) throw r.corrupt(`${String(count)} runs for ${String(n)} values`)
  const codes = new Float64Array(count)
  readSeries(r, codes)
  const runs = new Float64Array(count)
  readUints(r, runs)
  let i = 0
  for (let j = 0; j < count; j++) {
    const s = dict[codes[j] ?? -1]
    const len = (runs[j] ?? 0) + 1
    if (s === undefined) throw r.corrupt(`dictionary code ${String(codes[j])} out of range`)
    if (len > n - i) throw r.corrupt(`run ${String(j)} overflows the ${String(n)} values`)
    out.fill(s, i, i + len)
    i += len
  }
  if (i !== n) throw r.corrupt(`runs cover ${String(i)} of ${String(n)} values`)
  r.checkEnd()
}
