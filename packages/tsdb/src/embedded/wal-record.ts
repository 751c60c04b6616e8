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
 * Encodes a write as one log record: per series its id, type, count, the timestamps as float64
 * and the values in their natural width, every array 8-byte aligned so it is copied in bulk.
 * Fast to write; the log is short-lived (a checkpoint seals it into compressed chunks), so size
 * matters less than speed here.
 */
export function encodeWriteRecord(series: readonly LoggedSeries[]): Buffer {
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
  // Its own ArrayBuffer at offset 0, so typed-array views of it are aligned.
  const out = Buffer.allocUnsafeSlow(size)
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
    new Float64Array(out.buffer, at, n).set(s.times)
    at += n * 8
    switch (s.type) {
      case 'float':
        new Float64Array(out.buffer, at, n).set(s.values as ArrayLike<number>)
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

/** Decodes a record written by {@link encodeWriteRecord}; throws RangeError on a short buffer. */
export function decodeWriteRecord(record: Buffer): DecodedSeries[] {
  // Copied to its own buffer when needed so that the typed-array views below are aligned.
  const buf = record.byteOffset % 8 === 0 ? record : Buffer.from(new Uint8Array(record))
  const series: DecodedSeries[] = []
  const count = buf.readUInt32LE(0)
  let at = recordHeaderBytes
  for (let s = 0; s < count; s++) {
    const seriesId = buf.readUInt32LE(at)
    const type = typesByCode[buf.readUInt8(at + 4)]
    const n = buf.readUInt32LE(at + 8)
    at += seriesHeaderBytes
    if (type === undefined || at + n * 8 > buf.length) throw new RangeError('bad log record')
    const times = Array.from(new Float64Array(buf.buffer, buf.byteOffset + at, n))
    at += n * 8
    let values: Value[]
    switch (type) {
      case 'float':
      case 'int': {
        if (at + n * 8 > buf.length) throw new RangeError('bad log record')
        const view =
          type === 'float'
            ? new Float64Array(buf.buffer, buf.byteOffset + at, n)
            : new BigInt64Array(buf.buffer, buf.byteOffset + at, n)
        values = Array.from(view as ArrayLike<number | bigint>)
        at += n * 8
        break
      }
      case 'bool':
        if (at + n > buf.length) throw new RangeError('bad log record')
        values = Array.from(buf.subarray(at, at + n), (b) => b === 1)
        at += align8(n)
        break
      case 'string': {
        const start = at
        values = new Array<Value>(n)
        for (let i = 0; i < n; i++) {
          const length = buf.readUInt16LE(at)
          if (at + 2 + length > buf.length) throw new RangeError('bad log record')
          values[i] = buf.toString('utf8', at + 2, at + 2 + length)
          at += 2 + length
        }
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
