import type { ChunkValues } from '../chunk/index.js'
import type { Value, ValueType } from '../model/points.js'

/** The points of one series in a log record. */
export interface LoggedSeries {
  readonly seriesId: number
  readonly type: ValueType
  /** Arrays, or typed columns (bools then as 0/1). */
  readonly times: ArrayLike<number>
  readonly values: ArrayLike<Value>
}

/** A series of a decoded record: its points as arrays. */
export interface DecodedSeries extends LoggedSeries {
  readonly times: number[]
  readonly values: Value[]
}

const typeCodes: Record<ValueType, number> = { float: 1, int: 2, bool: 3, string: 4 }
const typesByCode: ValueType[] = ['float', 'float', 'int', 'bool', 'string']

/** Bytes before each series' points: id (u32), type (u8), 3 spare, count (u32), 4 spare. */
const seriesHeaderBytes = 16
/** Bytes before the first series: the series count (u32) and 4 spare, so data stays 8-aligned. */
const recordHeaderBytes = 8

function align8(n: number): number {
  return (n + 7) & ~7
}

/**
 * Copies numbers into a typed array. A loop, not `set`: callers' arrays often hold their
 * numbers boxed (V8's generic elements, e.g. arrays sliced where bigints were sliced too), which
 * `set` copies ten times slower; typed sources are copied in bulk.
 */
function copyNumbers(out: Float64Array, from: ArrayLike<number>): void {
  if (from instanceof Float64Array) {
    out.set(from)
    return
  }
  for (let i = 0; i < out.length; i++) out[i] = from[i] as number
}

/**
 * Encodes a write as one log record: per series its id, type, count, the timestamps as float64
 * and the values in their natural width, every array 8-byte aligned so it is copied in bulk.
 * Fast to write; the log is short-lived (a checkpoint seals it into compressed chunks), so size
 * matters less than speed here. `alloc` gives the record's buffer: `size` bytes at offset 0 of
 * its own ArrayBuffer, so typed-array views of it are aligned (`RecordBuffers.take`).
 */
export function encodeWriteRecord(
  series: readonly LoggedSeries[],
  alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafeSlow(size),
): Buffer {
  let size = recordHeaderBytes
  for (const s of series) {
    size += seriesHeaderBytes + s.times.length * 8
    if (s.type === 'bool') size += align8(s.times.length)
    else if (s.type === 'string') {
      let bytes = 0
      for (let i = 0; i < s.values.length; i++)
        bytes += 2 + Buffer.byteLength(s.values[i] as string)
      size += align8(bytes)
    } else size += s.times.length * 8
  }
  const out = alloc(size)
  out.fill(0, 0, recordHeaderBytes)
  out.writeUInt32LE(series.length, 0)
  let at = recordHeaderBytes
  for (const s of series) {
    const n = s.times.length
    out.fill(0, at, at + seriesHeaderBytes)
    out.writeUInt32LE(s.seriesId, at)
    out.writeUInt8(typeCodes[s.type], at + 4)
    out.writeUInt32LE(n, at + 8)
    at += seriesHeaderBytes
    copyNumbers(new Float64Array(out.buffer, at, n), s.times)
    at += n * 8
    switch (s.type) {
      case 'float':
        copyNumbers(new Float64Array(out.buffer, at, n), s.values as ArrayLike<number>)
        at += n * 8
        break
      case 'int':
        new BigInt64Array(out.buffer, at, n).set(s.values as ArrayLike<bigint>)
        at += n * 8
        break
      case 'bool': {
        const bytes = new Uint8Array(out.buffer, at, align8(n))
        bytes.fill(0)
        for (let i = 0; i < n; i++) bytes[i] = s.values[i] === true || s.values[i] === 1 ? 1 : 0
        at += align8(n)
        break
      }
      case 'string': {
        const start = at
        for (let i = 0; i < n; i++) {
          const length = out.write(s.values[i] as string, at + 2, 'utf8')
          out.writeUInt16LE(length, at)
          at += 2 + length
        }
        const end = start + align8(at - start)
        out.fill(0, at, end)
        at = end
        break
      }
    }
  }
  return out
}

/** A series of a record read in place: its points as typed views of the record. */
export interface RecordColumns {
  readonly seriesId: number
  readonly type: ValueType
  readonly times: Float64Array
  /** Float64Array (float), BigInt64Array (int), Uint8Array of 0/1 (bool), string[] (string). */
  readonly values: ChunkValues
}

/**
 * Reads a record written by {@link encodeWriteRecord} without copying its numbers: the times
 * and numeric values are views of the record (valid while it is); throws RangeError on a short
 * or malformed buffer.
 */
export function readWriteRecord(record: Buffer): RecordColumns[] {
  // Copied to its own buffer when needed so that the typed-array views below are aligned.
  const buf = record.byteOffset % 8 === 0 ? record : Buffer.from(new Uint8Array(record))
  const series: RecordColumns[] = []
  const count = buf.readUInt32LE(0)
  let at = recordHeaderBytes
  for (let s = 0; s < count; s++) {
    const seriesId = buf.readUInt32LE(at)
    const type = typesByCode[buf.readUInt8(at + 4)]
    const n = buf.readUInt32LE(at + 8)
    at += seriesHeaderBytes
    if (type === undefined || at + n * 8 > buf.length) throw new RangeError('bad log record')
    const times = new Float64Array(buf.buffer, buf.byteOffset + at, n)
    at += n * 8
    let values: ChunkValues
    switch (type) {
      case 'float':
      case 'int': {
        if (at + n * 8 > buf.length) throw new RangeError('bad log record')
        values =
          type === 'float'
            ? new Float64Array(buf.buffer, buf.byteOffset + at, n)
            : new BigInt64Array(buf.buffer, buf.byteOffset + at, n)
        at += n * 8
        break
      }
      case 'bool':
        if (at + n > buf.length) throw new RangeError('bad log record')
        values = new Uint8Array(buf.buffer, buf.byteOffset + at, n)
        at += align8(n)
        break
      case 'string': {
        const start = at
        const strings = new Array<string>(n)
        for (let i = 0; i < n; i++) {
          if (at + 2 > buf.length) throw new RangeError('bad log record')
          const length = buf.readUInt16LE(at)
          if (at + 2 + length > buf.length) throw new RangeError('bad log record')
          strings[i] = buf.toString('utf8', at + 2, at + 2 + length)
          at += 2 + length
        }
        values = strings
        at = start + align8(at - start)
        break
      }
    }
    series.push({ seriesId, type, times, values })
  }
  if (at !== buf.length)
    throw new RangeError('bad log record: its length disagrees with its contents')
  return series
}

/** Decodes a record written by {@link encodeWriteRecord} into arrays (bools as booleans). */
export function decodeWriteRecord(record: Buffer): DecodedSeries[] {
  return readWriteRecord(record).map(({ seriesId, type, times, values }) => ({
    seriesId,
    type,
    times: Array.from(times),
    values:
      type === 'bool'
        ? Array.from(values as Uint8Array, (b) => b === 1)
        : Array.isArray(values)
          ? values
          : Array.from(values as ArrayLike<number | bigint>),
  }))
}
