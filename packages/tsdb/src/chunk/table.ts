import { BitReader } from './bit-reader.js'
import { checkTimestamps, MAX_CHUNK_POINTS } from './chunk.js'
import { corruptChunk, invalidChunkData } from './chunk-error.js'
import { decodeFloats, encodeFloats } from './float-codec.js'
import { CRC_BYTES, openFrame, sealFrame, startFrame } from './frame.js'
import { decodeTimestamps, encodeTimestamps, TS_ENCODINGS } from './timestamp-codec.js'

/**
 * A float table: rows sharing one timestamp column, for rollups (count/sum/min/max per bucket),
 * with one header and checksum instead of one chunk per column. Format version 1, multi-byte
 * fields little-endian:
 *
 * ```
 * offset      size  field
 *      0         4  magic "STCT"
 *      4         1  format version = 1
 *      5         1  timestamp encoding (timestamp-codec.ts)
 *      6         1  C: number of columns, 1..16
 *      7         1  reserved, 0
 *      8         4  count: number of rows, 1..1,000,000
 *     12         4  T: byte length of the timestamp section
 *     16         8  minTime: the first timestamp, float64
 *     24         8  maxTime: the last timestamp, float64
 *     32      5·C  per column: value encoding (1 byte, float-codec.ts), section length (4 bytes)
 * 32+5C         T  timestamp section (as in a chunk)
 *              …   the column sections, in order, each as a float chunk's value section
 *  end-4         4  CRC-32 (ISO-HDLC, as node:zlib crc32) of every byte before it
 * ```
 */
const HEADER_BYTES = 32
const COLUMN_BYTES = 5
const TABLE_FRAME = {
  name: 'table',
  magic: 0x54435453, // "STCT" read as a little-endian u32
  version: 1,
  minBytes: HEADER_BYTES + COLUMN_BYTES + CRC_BYTES,
} as const
/** Most columns one table may hold. */
export const MAX_TABLE_COLUMNS = 16

/** What decodeFloatTable returns. */
export interface FloatTable {
  timestamps: Float64Array
  columns: Float64Array[]
}

function checkTable(timestamps: Float64Array, columns: readonly Float64Array[]): number {
  const n = timestamps.length
  if (n < 1 || n > MAX_CHUNK_POINTS) {
    throw invalidChunkData(`${String(n)} rows; a table holds 1 to ${String(MAX_CHUNK_POINTS)}`)
  }
  if (columns.length < 1 || columns.length > MAX_TABLE_COLUMNS) {
    throw invalidChunkData(
      `${String(columns.length)} columns; a table holds 1 to ${String(MAX_TABLE_COLUMNS)}`,
    )
  }
  columns.forEach((c, j) => {
    if (!(c instanceof Float64Array) || c.length !== n) {
      throw invalidChunkData(`column ${String(j)} is not a Float64Array of ${String(n)} values`)
    }
  })
  checkTimestamps(timestamps)
  return n
}

/**
 * Encodes rows of float columns that share timestamps into one checksummed table: the
 * timestamps once, each column with the float codec (bit-exact, NaN payloads and -0 included).
 *
 * @example
 * const bytes = encodeFloatTable(bucketStarts, [counts, sums, minima, maxima])
 * const { timestamps, columns } = decodeFloatTable(bytes)
 */
export function encodeFloatTable(
  timestamps: Float64Array,
  columns: readonly Float64Array[],
): Uint8Array {
  const n = checkTable(timestamps, columns)
  const ts = encodeTimestamps(timestamps)
  const values = columns.map((c) => encodeFloats(c))
  const columnTable = HEADER_BYTES + COLUMN_BYTES * columns.length
  let total = columnTable + ts.bytes.length + CRC_BYTES
  for (const v of values) total += v.bytes.length
  const out = new Uint8Array(total)
  const view = startFrame(out, TABLE_FRAME)
  out[5] = ts.encoding
  out[6] = columns.length
  view.setUint32(8, n, true)
  view.setUint32(12, ts.bytes.length, true)
  view.setFloat64(16, timestamps[0] ?? 0, true)
  view.setFloat64(24, timestamps[n - 1] ?? 0, true)
  out.set(ts.bytes, columnTable)
  let at = columnTable + ts.bytes.length
  values.forEach((v, j) => {
    out[HEADER_BYTES + COLUMN_BYTES * j] = v.encoding
    view.setUint32(HEADER_BYTES + COLUMN_BYTES * j + 1, v.bytes.length, true)
    out.set(v.bytes, at)
    at += v.bytes.length
  })
  sealFrame(out, view)
  return out
}

interface TableHeader {
  tsEncoding: number
  columns: number
  count: number
  tsBytes: number
  minTime: number
  maxTime: number
}

function parseTableHeader(bytes: Uint8Array): TableHeader {
  const view = openFrame(bytes, TABLE_FRAME)
  const length = bytes.length
  const tsEncoding = bytes[5] ?? 0
  if (tsEncoding >= TS_ENCODINGS) {
    throw corruptChunk(`unknown timestamp encoding ${String(tsEncoding)} at offset 5`)
  }
  const columns = bytes[6] ?? 0
  if (columns < 1 || columns > MAX_TABLE_COLUMNS || bytes[7] !== 0) {
    throw corruptChunk(`column count ${String(columns)} at offset 6`)
  }
  const count = view.getUint32(8, true)
  if (count < 1 || count > MAX_CHUNK_POINTS)
    throw corruptChunk(`count ${String(count)} at offset 8`)
  const tsBytes = view.getUint32(12, true)
  const minTime = view.getFloat64(16, true)
  const maxTime = view.getFloat64(24, true)
  const timesOk =
    Number.isSafeInteger(minTime) &&
    Number.isSafeInteger(maxTime) &&
    (count === 1 ? minTime === maxTime : maxTime - minTime >= count - 1)
  if (!timesOk) {
    throw corruptChunk(`minTime ${String(minTime)} / maxTime ${String(maxTime)} do not fit`)
  }
  let sections = HEADER_BYTES + COLUMN_BYTES * columns + tsBytes + CRC_BYTES
  for (let j = 0; j < columns && sections <= length; j++) {
    sections += view.getUint32(HEADER_BYTES + COLUMN_BYTES * j + 1, true)
  }
  if (sections !== length) {
    throw corruptChunk(`section lengths add up to ${String(sections)} of ${String(length)} bytes`)
  }
  return { tsEncoding, columns, count, tsBytes, minTime, maxTime }
}

/**
 * Decodes a table written by encodeFloatTable. Throws ChunkError TSDB_CHUNK_CORRUPT on any
 * damage.
 *
 * @example
 * const { timestamps, columns: [counts, sums] } = decodeFloatTable(bytes)
 */
export function decodeFloatTable(bytes: Uint8Array): FloatTable {
  const h = parseTableHeader(bytes)
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
    let at = HEADER_BYTES + COLUMN_BYTES * h.columns
    const timestamps = new Float64Array(h.count)
    const tr = new BitReader(bytes.subarray(at, at + h.tsBytes), 'timestamp')
    decodeTimestamps(tr, h.tsEncoding, h.minTime, h.maxTime, timestamps)
    at += h.tsBytes
    const columns: Float64Array[] = []
    for (let j = 0; j < h.columns; j++) {
      const encoding = bytes[HEADER_BYTES + COLUMN_BYTES * j] ?? 0
      const length = view.getUint32(HEADER_BYTES + COLUMN_BYTES * j + 1, true)
      const out = new Float64Array(h.count)
      decodeFloats(
        new BitReader(bytes.subarray(at, at + length), `column ${String(j)}`),
        encoding,
        out,
      )
      columns.push(out)
      at += length
    }
    return { timestamps, columns }
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'TSDB_CHUNK_CORRUPT') throw err
    // Defence in depth: whatever else a damaged table provokes is still corrupt.
    throw corruptChunk(`decoding failed: ${String(err)}`, { cause: String(err) })
  }
}
