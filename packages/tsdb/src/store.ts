import type { QueryLimits } from './model/limits.js'
import type {
  Precision,
  SeriesBatch,
  WriteOptions,
  WritePoint,
  WriteResult,
} from './model/points.js'
import type {
  AggregateQuery,
  AggregateResult,
  DeleteQuery,
  LatestQuery,
  LatestValue,
  RangePage,
  RangeQuery,
  RetentionRule,
  SeriesInfo,
  SeriesPoints,
  SeriesSelector,
  StoreStats,
} from './model/queries.js'

/**
 * The time-series store: one interface, two engines (`openEmbeddedStore`, `openPostgresStore`).
 * Every method validates its input and throws a `TsdbError` with a code from `tsdbErrorCodes`.
 */
export interface TimeSeriesStore {
  /** The unit of every timestamp in and out. */
  readonly precision: Precision

  /**
   * Stores points; resolves once they are durable (a crash after it resolves loses none).
   * Idempotent per (series, timestamp): a rewrite replaces. All-or-nothing: a batch with one
   * invalid point stores none.
   */
  write(batches: readonly SeriesBatch[], options?: WriteOptions): Promise<WriteResult>
  /** The same for single points. */
  writePoints(points: readonly WritePoint[], options?: WriteOptions): Promise<WriteResult>

  /** The series a selector matches, in canonical key order. */
  series(selector: SeriesSelector): Promise<SeriesInfo[]>
  /** One page of raw points. */
  read(query: RangeQuery): Promise<RangePage>
  /** Every page of a range read, one series' points at a time; stops when the caller stops. */
  readAll(query: RangeQuery): AsyncGenerator<SeriesPoints>
  /** Aggregates per time bucket. */
  aggregate(query: AggregateQuery): Promise<AggregateResult>
  /** The newest point of each matched series. */
  latest(query: LatestQuery): Promise<LatestValue[]>
  /** Deletes points in a range; resolves with how many were deleted, once durable. */
  delete(query: DeleteQuery): Promise<{ readonly points: number }>

  /** Sets (or with `maxAge: null`, removes) the retention rule for a selector. */
  setRetention(rule: RetentionRule | { selector: SeriesSelector; maxAge: null }): Promise<void>
  retentionRules(): Promise<RetentionRule[]>
  /** Drops points past their retention now (the store also does it periodically). */
  applyRetention(): Promise<{ readonly points: number }>

  stats(): Promise<StoreStats>
  /** Makes everything durable, releases every file, connection and timer. */
  close(): Promise<void>
}

/** Options both engines take. */
export interface StoreOptions {
  /** Unit of timestamps (default `ms`). */
  readonly precision?: Precision
  /** Points older than now − lateWindow are refused unless written as backfill (default 7 days). */
  readonly lateWindowMs?: number
  /** Points further than this in the future are refused (default 1 hour; clock skew). */
  readonly maxFutureMs?: number
  readonly limits?: Partial<QueryLimits>
  /** The clock, in ms since epoch (tests replace it). */
  readonly now?: () => number
}
