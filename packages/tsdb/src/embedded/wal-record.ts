import type { Value, ValueType } from '../model/points.js'

/** The points of one series in a log record. */
export interface LoggedSeries {
  readonly seriesId: number
  readonly type: ValueType
  readonly times: readonly number[]
  readonly values: readonly Value[]
}

const typeCodes: Record<ValueType, number> = { float: 1, int: 2, bool: 3, string: 4 }
const typesByCode: ValueType[] = ['float', 'float', 'int', 'bool', 'string']

/**
 * Encodes a write as one log record: per series its id, type, count, the timestamps as float64
 * and the values in their natural width. Fast to write; the log is short-lived (a checkpoint
 * seals it into compressed chunks), so size matters less than speed here.
 */
export function encodeWriteRecord(series: readonly LoggedSeries[]): Buffer {
  let size = 4
  for (const s of series) {
    size += 9 + s.times.length * 8
    if (s.type === 'bool') size += s.times.length
    else if (s.type === 'string') {
      for (const v of s.values) size += 2 + Buffer.byteLength(v as string)
    } else size += s.times.length * 8
  }
  const out = Buffer.allocUnsafe(size)
  let at = out.writeUInt32LE(series.length, 0)
  for (const s of series) {
    at = out.writeUInt32LE(s.seriesId, at)
    at = out.writeUInt8(typeCodes[s.type], at)
    at = out.writeUInt32LE(s.times.length, at)
    for (const t of s.times) at = out.writeDoubleLE(t, at)
    switch (s.type) {
      case 'float':
        for (const v of s.values) at = out.writeDoubleLE(v as number, at)
        break
      case 'int':
        for (const v of s.values) at = out.writeBigInt64LE(v as bigint, at)
        break
      case 'bool':
        for (const v of s.values) at = out.writeUInt8(v === true ? 1 : 0, at)
        break
      case 'string':
        for (const v of s.values) {
          const length = out.write(v as string, at + 2, 'utf8')
          out.writeUInt16LE(length, at)
          at += 2 + length
        }
        break
    }
  }
  return out
}

/** Decodes a record written by {@link encodeWriteRecord}; throws RangeError on a short buffer. */
export function decodeWriteRecord(buf: Buffer): LoggedSeries[] {
  const series: LoggedSeries[] = []
  const count = buf.readUInt32LE(0)
  let at = 4
  for (let s = 0; s < count; s++) {
    const seriesId = buf.readUInt32LE(at)
    const type = typesByCode[buf.readUInt8(at + 4)]
    const n = buf.readUInt32LE(at + 5)
    at += 9
    if (type === undefined || at + n * 8 > buf.length) throw new RangeError('bad log record')
    const times = new Array<number>(n)
    for (let i = 0; i < n; i++, at += 8) times[i] = buf.readDoubleLE(at)
    const values = new Array<Value>(n)
    for (let i = 0; i < n; i++) {
      switch (type) {
        case 'float':
          values[i] = buf.readDoubleLE(at)
          at += 8
          break
        case 'int':
          values[i] = buf.readBigInt64LE(at)
          at += 8
          break
        case 'bool':
          values[i] = buf.readUInt8(at) === 1
          at += 1
          break
        case 'string': {
          const length = buf.readUInt16LE(at)
          if (at + 2 + length > buf.length) throw new RangeError('bad log record')
          values[i] = buf.toString('utf8', at + 2, at + 2 + length)
          at += 2 + length
          break
        }
      }
    }
    series.push({ seriesId, type, times, values })
  }
  return series
}
