import { BitReader } from './bit-reader.js'
import { decodeBools, encodeBools } from './bool-codec.js'
import { corruptChunk, invalidChunkData } from './chunk-error.js'
import { decodeFloats, encodeFloats } from './float-codec.js'
import { CRC_BYTES, openFrame, sealFrame, startFrame } from './frame.js'
import { decodeInts, encodeInts } from './int-codec.js'
import { decodeStrings, encodeStrings } from './string-codec.js'
import { decodeTimestamps, encodeTimestamps, TS_ENCODINGS } from './timestamp-codec.js'

/** The type of a chunk's values. */
export type ValueType = 'float' | 'int' | 'bool' | 'string'

/** A chunk's values: Float64Array, BigInt64Array, Uint8Array of 0/1 or string[] by type. */
export type ChunkValues = Float64Array | BigInt64Array | Uint8Array | string[]

/** The points of one series: strictly increasing integer timestamps and one value each. */
export interface ChunkData {
  type: ValueType
  /** Epoch ms or µs, safe integers, strictly increasing. */
  timestamps: Float64Array
  values: ChunkValues
}

/** What readChunkHeader returns. */
export interface ChunkHeader {
  type: ValueType
  count: number
  minTime: number
  maxTime: number
}

/**
 * The chunk format, version 1 (all multi-byte header fields little-endian):
 *
 * ```
 * offset  size  field
 *      0     4  magic "STCK"
 *      4     1  format version = 1
 *      5     1  value type: 0 float, 1 int, 2 bool, 3 string
 *      6     1  timestamp encoding (timestamp-codec.ts)
 *      7     1  value encoding (float-, int-, bool-, string-codec.ts)
 *      8     4  count: number of points, 1..1,000,000
 *     12     4  T: byte length of the timestamp section
 *     16     8  minTime: the first timestamp, float64
 *     24     8  maxTime: the last timestamp, float64
 *     32     T  timestamp section: a big-endian, MSB-first bit stream, zero-padded to a byte
 *   32+T     V  value section: the same, up to the checksum
 *    end-4   4  CRC-32 (ISO-HDLC, as node:zlib crc32) of every byte before it
 * ```
 */
const HEADER_BYTES = 32
const CHUNK_FRAME = {
  name: 'chunk',
  magic: 0x4b435453, // "STCK" read as a little-endian u32
  version: 1,
  minBytes: HEADER_BYTES + CRC_BYTES,
} as const
/** Most points one chunk may hold; bounds what a damaged count can make the decoder allocate. */
export const MAX_CHUNK_POINTS = 1_000_000

const TYPES: readonly ValueType[] = ['float', 'int', 'bool', 'string']

function checkInput(data: ChunkData): number {
  const { timestamps: ts, values, type } = data
  const n = ts.length
  const typeOk =
    (type === 'float' && values instanceof Float64Array) ||
    (type === 'int' && values instanceof BigInt64Array) ||
    (type === 'bool' && values instanceof Uint8Array) ||
    (type === 'string' && Array.isArray(values))
  if (!typeOk) throw invalidChunkData(`values do not match type ${JSON.stringify(type)}`)
  if (n < 1 || n > MAX_CHUNK_POINTS) {
    throw invalidChunkData(`${String(n)} points; a chunk holds 1 to ${String(MAX_CHUNK_POINTS)}`)
  }
  if (values.length !== n) {
    throw invalidChunkData(`${String(n)} timestamps but ${String(values.length)} values`)
  }
  checkTimestamps(ts)
  return n
}

/** Throws `TSDB_CHUNK_INVALID` unless the timestamps are strictly increasing safe integers. */
export function checkTimestamps(ts: Float64Array): void {
  let prev = -Infinity
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? NaN
    if (!Number.isSafeInteger(t) || t <= prev) {
      throw invalidChunkData(
        `timestamp ${String(i)} (${String(t)}) is not a safe integer after the one before`,
      )
    }
    prev = t
  }
}

function encodeValues(data: ChunkData): { encoding: number; bytes: Uint8Array } {
  const v = data.values
  if (v instanceof Float64Array) return encodeFloats(v)
  if (v instanceof BigInt64Array) return encodeInts(v)
  if (v instanceof Uint8Array) return encodeBools(v)
  return encodeStrings(v)
}

/**
 * Encodes one series' points into an immutable, checksummed chunk, picking per section the
 * smallest of several encodings.
 *
 * @example
 * const bytes = encodeChunk({
 *   type: 'float',
 *   timestamps: Float64Array.of(1_700_000_000_000, 1_700_000_010_000),
 *   values: Float64Array.of(21.5, 21.52),
 * })
 * decodeChunk(bytes).values // Float64Array [21.5, 21.52]
 */
export function encodeChunk(data: ChunkData): Uint8Array {
  const n = checkInput(data)
  const ts = encodeTimestamps(data.timestamps)
  const values = encodeValues(data)
  const total = HEADER_BYTES + ts.bytes.length + values.bytes.length + CRC_BYTES
  const out = new Uint8Array(total)
  const view = startFrame(out, CHUNK_FRAME)
  out[5] = TYPES.indexOf(data.type)
  out[6] = ts.encoding
  out[7] = values.encoding
  view.setUint32(8, n, true)
  view.setUint32(12, ts.bytes.length, true)
  view.setFloat64(16, data.timestamps[0] ?? 0, true)
  view.setFloat64(24, data.timestamps[n - 1] ?? 0, true)
  out.set(ts.bytes, HEADER_BYTES)
  out.set(values.bytes, HEADER_BYTES + ts.bytes.length)
  sealFrame(out, view)
  return out
}

interface ParsedHeader extends ChunkHeader {
  tsEncoding: number
  valueEncoding: number
  tsBytes: number
}

function parseHeader(bytes: Uint8Array): ParsedHeader {
  const view = openFrame(bytes, CHUNK_FRAME)
  const length = bytes.length
  const type = TYPES[bytes[5] ?? 255]
  if (type === undefined) throw corruptChunk(`unknown value type ${String(bytes[5])} at offset 5`)
  const tsEncoding = bytes[6] ?? 0
  if (tsEncoding >= TS_ENCODINGS) {
    throw corruptChunk(`unknown timestamp encoding ${String(tsEncoding)} at offset 6`)
  }
  const count = view.getUint32(8, true)
  if (count < 1 || count > MAX_CHUNK_POINTS)
    throw corruptChunk(`count ${String(count)} at offset 8`)
  const tsBytes = view.getUint32(12, true)
  if (tsBytes > length - HEADER_BYTES - CRC_BYTES) {
    throw corruptChunk(`timestamp section of ${String(tsBytes)} bytes overruns the chunk`)
  }
  const minTime = view.getFloat64(16, true)
  const maxTime = view.getFloat64(24, true)
  const timesOk =
    Number.isSafeInteger(minTime) &&
    Number.isSafeInteger(maxTime) &&
    (count === 1 ? minTime === maxTime : maxTime - minTime >= count - 1)
  if (!timesOk) {
    throw corruptChunk(`minTime ${String(minTime)} / maxTime ${String(maxTime)} do not fit`)
  }
  return { type, count, minTime, maxTime, tsEncoding, valueEncoding: bytes[7] ?? 0, tsBytes }
}

/**
 * Reads a chunk's type, point count and time range without decoding it (the checksum is
 * verified).
 *
 * @example
 * const { minTime, maxTime } = readChunkHeader(bytes)
 * if (maxTime < queryStart) skip()
 */
export function readChunkHeader(bytes: Uint8Array): ChunkHeader {
  const { type, count, minTime, maxTime } = parseHeader(bytes)
  return { type, count, minTime, maxTime }
}

/**
 * Decodes a chunk written by encodeChunk. Throws ChunkError TSDB_CHUNK_CORRUPT on any damage.
 *
 * @example
 * const { type, timestamps, values } = decodeChunk(bytes)
 */
export function decodeChunk(bytes: Uint8Array): ChunkData {
  const h = parseHeader(bytes)
  const valueStart = HEADER_BYTES + h.tsBytes
  const valueEnd = bytes.length - CRC_BYTES
  const timestamps = new Float64Array(h.count)
  try {
    const tr = new BitReader(bytes.subarray(HEADER_BYTES, valueStart), 'timestamp')
    decodeTimestamps(tr, h.tsEncoding, h.minTime, h.maxTime, timestamps)
    const vr = new BitReader(bytes.subarray(valueStart, valueEnd), `${h.type} value`)
    return { type: h.type, timestamps, values: decodeValues(vr, h) }
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'TSDB_CHUNK_CORRUPT') throw err
    // Defence in depth: whatever else a damaged chunk provokes is still a corrupt chunk.
    throw corruptChunk(`decoding failed: ${String(err)}`, { cause: String(err) })
  }
}

function decodeValues(r: BitReader, h: ParsedHeader): ChunkValues {
  switch (h.type) {
    case 'float': {
      const out = new Float64Array(h.count)
      decodeFloats(r, h.valueEncoding, out)
      return out
    }
    case 'int': {
      const out = new BigInt64Array(h.count)
      decodeInts(r, h.valueEncoding, out)
      return out
    }
    case 'bool': {
      const out = new Uint8Array(h.count)
      decodeBools(r, h.valueEncoding, out)
      return out
    }
    case 'string': {
      const out = new Array<string>(h.count).fill('')
      decodeStrings(r, h.valueEncoding, out)
      return out
    }
  }
}
