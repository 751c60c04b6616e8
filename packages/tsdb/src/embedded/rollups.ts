import { decodeFloatTable, encodeFloatTable } from '../chunk/index.js'
import { corruptChunk } from '../chunk/chunk-error.js'
import { numeric } from '../model/buckets.js'
import type { Precision, ValueType } from '../model/points.js'
import type { SortedPoints } from './head.js'

/** Rollup interval widths in ms: 5 minutes (dashboards over a day) and 1 hour (months). */
export const rollupWidthsMs = [5 * 60_000, 60 * 60_000] as const

/** Count, sum, min and max of each interval of one width that holds points of a chunk. */
export interface RollupLevel {
  readonly starts: Float64Array
  readonly count: Float64Array
  readonly sum: Float64Array
  readonly min: Float64Array
  readonly max: Float64Array
}

/** The widths in the store's unit. */
export function rollupWidths(precision: Precision): number[] {
  return rollupWidthsMs.map((w) => (precision === 'ms' ? w : w * 1000))
}

/** Rollups of a chunk's points at each width (none for strings). */
export function computeRollups(
  type: ValueType,
  points: SortedPoints,
  widths: readonly number[],
): RollupLevel[] {
  if (type === 'string') return []
  return widths.map((width) => rollupOf(points, width))
}

function rollupOf(points: SortedPoints, width: number): RollupLevel {
  const starts: number[] = []
  const count: number[] = []
  const sum: number[] = []
  const min: number[] = []
  const max: number[] = []
  let k = -1
  let current = NaN
  for (let i = 0; i < points.times.length; i++) {
    const start = Math.floor((points.times[i] as number) / width) * width
    const x = numeric(points.values[i] as number)
    if (start !== current) {
      current = start
      k++
      starts.push(start)
      count.push(1)
      sum.push(x)
      min.push(x)
      max.push(x)
      continue
    }
    count[k] = (count[k] as number) + 1
    sum[k] = (sum[k] as number) + x
    // PostgreSQL's order: NaN above every number (see BucketAccumulator).
    if (x < (min[k] as number) || Number.isNaN(min[k])) min[k] = x
    if (x > (max[k] as number) || Number.isNaN(x)) max[k] = x
  }
  return {
    starts: Float64Array.from(starts),
    count: Float64Array.from(count),
    sum: Float64Array.from(sum),
    min: Float64Array.from(min),
    max: Float64Array.from(max),
  }
}

/**
 * Encodes rollup levels: a level count, then per level its byte length (u32 LE) and a float
 * table (interval starts once, then the count, sum, min and max columns) under one checksum.
 */
export function encodeRollups(levels: readonly RollupLevel[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(levels.length)]
  for (const level of levels) {
    const table = encodeFloatTable(level.starts, [level.count, level.sum, level.min, level.max])
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32LE(table.length, 0)
    parts.push(length, table)
  }
  return Buffer.concat(parts)
}

/** Decodes what {@link encodeRollups} wrote (throws `TSDB_CHUNK_CORRUPT` on damage). */
export function decodeRollups(bytes: Uint8Array): RollupLevel[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const levels: RollupLevel[] = []
  let at = 1
  for (let l = 0; l < (buf[0] ?? 0); l++) {
    if (at + 4 > buf.length) throw corruptChunk('rollups are truncated')
    const length = buf.readUInt32LE(at)
    if (at + 4 + length > buf.length) throw corruptChunk('rollups are truncated')
    const table = decodeFloatTable(buf.subarray(at + 4, at + 4 + length))
    const [count, sum, min, max] = table.columns
    if (count === undefined || sum === undefined || min === undefined || max === undefined) {
      throw corruptChunk('a rollup table lacks a column')
    }
    levels.push({ starts: table.timestamps, count, sum, min, max })
    at += 4 + length
  }
  return levels
}
