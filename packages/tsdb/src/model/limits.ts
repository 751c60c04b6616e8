import { TsdbError } from '../errors.js'
import { timeRange, type Precision } from './points.js'
import type { AggregateFunction, AggregateQuery, RangeQuery } from './queries.js'

/** The bounds every query is held to, in both engines; a store may be opened with other values. */
export interface QueryLimits {
  /** Buckets per group of an aggregate. */
  readonly maxBuckets: number
  /** Buckets over all groups of an aggregate. */
  readonly maxCells: number
  /** Series one query may match. */
  readonly maxSeries: number
  /** Raw points one aggregate may read when no rollup serves it (percentiles, first/last…). */
  readonly maxScannedPoints: number
  /** Points per page of a range read. */
  readonly maxPageSize: number
}

export const defaultQueryLimits: QueryLimits = {
  maxBuckets: 100_000,
  maxCells: 2_000_000,
  maxSeries: 100_000,
  maxScannedPoints: 200_000_000,
  maxPageSize: 100_000,
}

export const defaultPageSize = 10_000

/** Checks [from, to) is a non-empty range of valid timestamps. */
export function checkTimeRange(from: number, to: number, precision: Precision): void {
  const { min, max } = timeRange(precision)
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
    throw new TsdbError('TSDB_QUERY_INVALID', 'from and to must be integer timestamps')
  }
  if (from >= to) {
    throw new TsdbError(
      'TSDB_QUERY_INVALID',
      `the range is empty: from (${String(from)}) must be before to (${String(to)})`,
    )
  }
  if (to < min || from > max) {
    throw new TsdbError('TSDB_TIME_OUT_OF_RANGE', 'the range lies outside 1970–9999')
  }
}

/** A percentile function's fraction (`p99.9` → 0.999), or undefined for other names. */
export function percentileOf(fn: string): number | undefined {
  const match = /^p(\d{1,3}(?:\.\d{1,6})?)$/.exec(fn)
  if (match === null) return undefined
  const p = Number(match[1])
  return p <= 100 ? p / 100 : undefined
}

const plainFunctions = new Set(['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'stddev'])

/** Checks an aggregate query's shape and size; returns the number of buckets per group. */
export function checkAggregate(
  query: AggregateQuery,
  precision: Precision,
  limits: QueryLimits,
): number {
  checkTimeRange(query.from, query.to, precision)
  if (!Number.isSafeInteger(query.bucket) || query.bucket <= 0) {
    throw new TsdbError('TSDB_QUERY_INVALID', 'bucket must be a positive integer width')
  }
  if (query.functions.length === 0) {
    throw new TsdbError('TSDB_QUERY_INVALID', 'name at least one aggregate function')
  }
  for (const fn of query.functions) checkFunction(fn)
  const first = Math.floor(query.from / query.bucket)
  const last = Math.floor((query.to - 1) / query.bucket)
  const buckets = last - first + 1
  if (buckets > limits.maxBuckets) {
    const minimum = Math.ceil((query.to - query.from) / limits.maxBuckets)
    throw new TsdbError(
      'TSDB_QUERY_TOO_LARGE',
      `the query asks for ${buckets.toLocaleString('en')} buckets per series; the limit is ${limits.maxBuckets.toLocaleString('en')}`,
      {
        hint: `Use a bucket of at least ${String(minimum)} ${precision} or a shorter range.`,
        details: { buckets, limit: limits.maxBuckets },
      },
    )
  }
  if (query.fill !== undefined && typeof query.fill === 'number' && !Number.isFinite(query.fill)) {
    throw new TsdbError('TSDB_QUERY_INVALID', 'a numeric fill must be finite')
  }
  return buckets
}

function checkFunction(fn: AggregateFunction): void {
  if (plainFunctions.has(fn) || percentileOf(fn) !== undefined) return
  throw new TsdbError('TSDB_QUERY_INVALID', `unknown aggregate function ${JSON.stringify(fn)}`, {
    hint: 'Use count, sum, min, max, mean, first, last, stddev or a percentile such as p99.',
  })
}

/** Checks the groups × buckets of an aggregate stay within `maxCells`. */
export function checkCells(groups: number, buckets: number, limits: QueryLimits): void {
  if (groups * buckets > limits.maxCells) {
    throw new TsdbError(
      'TSDB_QUERY_TOO_LARGE',
      `the query would return ${(groups * buckets).toLocaleString('en')} buckets (${String(groups)} groups); the limit is ${limits.maxCells.toLocaleString('en')}`,
      { hint: 'Group by fewer tags, select fewer series, widen the bucket or shorten the range.' },
    )
  }
}

/** Checks the number of matched series. */
export function checkSeriesCount(count: number, limits: QueryLimits): void {
  if (count > limits.maxSeries) {
    throw new TsdbError(
      'TSDB_QUERY_TOO_LARGE',
      `the selector matches ${count.toLocaleString('en')} series; the limit is ${limits.maxSeries.toLocaleString('en')}`,
      { hint: 'Narrow the selector by device, metric or tags.' },
    )
  }
}

/** The page size of a range read, checked. */
export function pageSizeOf(query: RangeQuery, limits: QueryLimits): number {
  const limit = query.limit ?? defaultPageSize
  if (!Number.isSafeInteger(limit) || limit <= 0 || limit > limits.maxPageSize) {
    throw new TsdbError(
      'TSDB_QUERY_INVALID',
      `limit must be an integer from 1 to ${String(limits.maxPageSize)}`,
    )
  }
  return limit
}

/** Throws `TSDB_QUERY_ABORTED` when the caller has gone away. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new TsdbError('TSDB_QUERY_ABORTED', 'the query was aborted by its caller', {
      cause: signal.reason,
    })
  }
}
