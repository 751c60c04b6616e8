import { decodeFloatTable, encodeFloatTable } from '../chunk/index.js'
import { corruptChunk } from '../chunk/chunk-error.js'
import { numeric } from '../model/buckets.js'
import { unitsPerMs, type Precision, type Value, type ValueType } from '../model/points.js'

/**
 * Rollup interval widths in ms: 15 minutes (a day on a chart is 96 of them; a 5-minute bucket
 * over a day reads at most a few thousand points of a series, which decodes in well under a
 * millisecond) and 1 hour (weeks and months). Finer rollups cost more bytes than they save time.
 */
export const rollupWidthsMs = [15 * 60_000, 60 * 60_000] as const

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
  return rollupWidthsMs.map((w) => w * unitsPerMs(precision))
}

/**
 * A level is kept only where its rows each summarise at least this many points on average:
 * below that, reading the points costs little more than reading the rollup, and storing it
 * would cost almost as much as the points (a 60 s sensor has 15 points per 15 minutes).
 */
export const minPointsPerRollupRow = 32

/**
 * Rollups of a chunk's points at each width, by level index; a level summarising too few
 * points per row is left out (undefined), and strings have none.
 */
export function computeRollups(
  type: ValueType,
  points: PointsLike,
  widths: readonly number[],
): (RollupLevel | undefined)[] {
  if (type === 'string') return []
  return widths.map((width) => {
    const level = rollupOf(points, width)
    return level.starts.length * minPointsPerRollupRow <= points.times.length ? level : undefined
  })
}

/** Sorted points as arrays or typed columns (bools as booleans or 0/1). */
export interface PointsLike {
  readonly times: ArrayLike<number>
  readonly values: ArrayLike<Value>
}

function rollupOf(points: PointsLike, width: number): RollupLevel {
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
 * Encodes rollup levels: how many are present (u8), then per present level its index (u8), its
 * byte length (u32 LE) and a float table (interval starts once, then the count, sum, min and max
 * columns) under one checksum.
 */
export function encodeRollups(levels: readonly (RollupLevel | undefined)[]): Uint8Array {
  const present = levels.flatMap((level, index) => (level === undefined ? [] : [{ level, index }]))
  const parts: Uint8Array[] = [Uint8Array.of(present.length)]
  for (const { level, index } of present) {
    const table = encodeFloatTable(level.starts, [level.count, level.sum, level.min, level.max])
    const head = Buffer.allocUnsafe(5)
    head.writeUInt8(index, 0)
    head.writeUInt32LE(table.length, 1)
    parts.push(head, table)
  }
  return Buffer.concat(parts)
}

/** Decodes what {@link encodeRollups} wrote, by level index (throws `TSDB_CHUNK_CORRUPT`). */
export function decodeRollups(bytes: Uint8Array): (RollupLevel | undefined)[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const levels: (RollupLevel | undefined)[] = []
  let at = 1
  for (let l = 0; l < (buf[0] ?? 0); l++) {
    if (at + 5 > buf.length) throw corruptChunk('rollups are truncated')
    const index = buf.readUInt8(at)
    const length = buf.readUInt32LE(at + 1)
    if (at + 5 + length > buf.length) throw corruptChunk('rollups are truncated')
    const table = decodeFloatTable(buf.subarray(at + 5, at + 5 + length))
    const [count, sum, min, max] = table.columns
    if (count === undefined || sum === undefined || min === undefined || max === undefined) {
      throw corruptChunk('a rollup table lacks a column')
    }
    levels[index] = { starts: table.timestamps, count, sum, min, max }
    at += 5 + length
  }
  return levels
}
