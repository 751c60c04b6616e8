import { TsdbError } from '../errors.js'
import type { SeriesKey } from './series.js'

/** The value types a series can hold; a series keeps the type of its first point. */
export type ValueType = 'float' | 'int' | 'bool' | 'string'

/** A value: float64 (`number`), int64 (`bigint`), boolean or a short string. */
export type Value = number | bigint | boolean | string

/** The unit of every timestamp a store takes and returns: milliseconds or microseconds since epoch. */
export type Precision = 'ms' | 'us'

/** Points of one series, in any order; a timestamp written twice keeps the last value. */
export interface SeriesBatch {
  readonly series: SeriesKey
  readonly times: readonly number[]
  readonly values: readonly Value[]
}

/** One point, for callers that have points rather than batches. */
export interface WritePoint {
  readonly series: SeriesKey
  readonly time: number
  readonly value: Value
}

/** Options of one write. */
export interface WriteOptions {
  /** Accept points older than the late-write window (history imports). */
  readonly backfill?: boolean
}

/** What a write stored; it resolves only once the points are durable. */
export interface WriteResult {
  readonly points: number
  readonly series: number
}

/** Bytes (UTF-8) of one string value. */
export const maxStringValueBytes = 256

/** int64's range, computed once: bigint arithmetic allocates, and this runs for every point. */
const int64Min = -(2n ** 63n)
const int64End = 2n ** 63n

/** The type a value is stored as. Throws `TSDB_POINT_INVALID` for anything else. */
export function valueTypeOf(value: unknown): ValueType {
  switch (typeof value) {
    case 'number':
      return 'float'
    case 'bigint':
      if (value < int64Min || value >= int64End) {
        throw new TsdbError('TSDB_POINT_INVALID', `integer ${value.toString()} is outside int64`)
      }
      return 'int'
    case 'boolean':
      return 'bool'
    case 'string':
      if (value.length > maxStringValueBytes || Buffer.byteLength(value) > maxStringValueBytes) {
        throw new TsdbError(
          'TSDB_POINT_INVALID',
          `a string value is longer than ${String(maxStringValueBytes)} bytes`,
          { hint: 'Store long text as an event or device attribute, not a time series.' },
        )
      }
      // PostgreSQL text cannot hold U+0000; refused in both engines so they store the same.
      if (value.includes('\u0000')) {
        throw new TsdbError('TSDB_POINT_INVALID', 'a string value contains U+0000')
      }
      return 'string'
    default:
      throw new TsdbError(
        'TSDB_POINT_INVALID',
        `a value must be a number, bigint, boolean or string, not ${value === null ? 'null' : typeof value}`,
      )
  }
}

/** Timestamps must lie in [1970-01-01, 10000-01-01), in the store's unit. */
export function timeRange(precision: Precision): { min: number; max: number } {
  const maxMs = 253_402_300_800_000
  return { min: 0, max: maxMs * unitsPerMs(precision) }
}

/** The store's unit per millisecond. */
export function unitsPerMs(precision: Precision): number {
  return precision === 'ms' ? 1 : 1000
}

/** Groups single points into batches by series key object identity or equal fields. */
export function batchesFromPoints(points: readonly WritePoint[]): SeriesBatch[] {
  const bySeries = new Map<string, { series: SeriesKey; times: number[]; values: Value[] }>()
  for (const point of points) {
    const key = JSON.stringify([
      point.series.tenant,
      point.series.device,
      point.series.metric,
      Object.entries(point.series.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ])
    let batch = bySeries.get(key)
    if (batch === undefined) {
      batch = { series: point.series, times: [], values: [] }
      bySeries.set(key, batch)
    }
    batch.times.push(point.time)
    batch.values.push(point.value)
  }
  return [...bySeries.values()]
}
