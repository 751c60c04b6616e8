import type { SeriesKey } from './series.js'
import type { Value, ValueType } from './points.js'

/** A condition on one tag of a series. */
export type TagMatcher =
  | { readonly name: string; readonly op: '=' | '!='; readonly value: string }
  | { readonly name: string; readonly op: 'in' | 'not in'; readonly values: readonly string[] }
  | { readonly name: string; readonly op: 'exists' | 'absent' }

/** Which series of one tenant a query reads: all conditions must hold. */
export interface SeriesSelector {
  readonly tenant: string
  /** One device, or any of several. */
  readonly device?: string | readonly string[]
  readonly metric?: string
  readonly tags?: readonly TagMatcher[]
}

/** A series the store holds. */
export interface SeriesInfo {
  readonly key: Required<SeriesKey>
  readonly type: ValueType
}

/** Raw points of series matched by a selector over [from, to), a page at a time. */
export interface RangeQuery {
  readonly selector: SeriesSelector
  readonly from: number
  readonly to: number
  /** Points per page, over all series of the page (default 10,000; at most 100,000). */
  readonly limit?: number
  /** The `cursor` of the previous page; absent for the first. */
  readonly cursor?: string | null
  readonly signal?: AbortSignal
}

/** Points of one series, in time order. */
export interface SeriesPoints {
  readonly key: Required<SeriesKey>
  readonly type: ValueType
  readonly times: number[]
  readonly values: Value[]
}

/** One page of a range read; `cursor` is null on the last page. */
export interface RangePage {
  readonly series: SeriesPoints[]
  readonly cursor: string | null
}

/**
 * What an aggregate computes per bucket: `count`, `sum`, `min`, `max`, `mean`, `first`, `last`,
 * `stddev` (sample) and percentiles written `p50`, `p99`, `p99.9` (interpolated like
 * PostgreSQL's `percentile_cont`).
 */
export type AggregateFunction =
  'count' | 'sum' | 'min' | 'max' | 'mean' | 'first' | 'last' | 'stddev' | `p${number}`

/**
 * How empty buckets appear: `none` leaves them out, `null` gives every bucket with nulls where
 * empty, `previous` repeats the last value, `linear` interpolates between the neighbours, and a
 * number stands in for every empty bucket. `count` is 0 in an empty bucket whatever the fill.
 */
export type Fill = 'none' | 'null' | 'previous' | 'linear' | number

/** Aggregates per time bucket of one metric over the series a selector matches. */
export interface AggregateQuery {
  readonly selector: SeriesSelector & { readonly metric: string }
  readonly from: number
  readonly to: number
  /** Bucket width in the store's unit; buckets are aligned to the epoch. */
  readonly bucket: number
  readonly functions: readonly AggregateFunction[]
  /**
   * `series` (the default) gives one group per series; a list of tag names gives one group per
   * distinct combination of those tags (an empty list: one group for everything matched).
   */
  readonly groupBy?: 'series' | readonly string[]
  readonly fill?: Fill
  readonly signal?: AbortSignal
}

/** The buckets of one group, column by column: `values[fn][i]` belongs to `times[i]`. */
export interface AggregateGroup {
  /** The series, when grouped by series. */
  readonly series?: Required<SeriesKey>
  /** The grouping tags and their values (absent tags are ''), when grouped by tags. */
  readonly tags: Readonly<Record<string, string>>
  readonly times: number[]
  readonly values: Record<string, (Value | null)[]>
}

export interface AggregateResult {
  readonly groups: AggregateGroup[]
}

/** The newest point of every series a selector matches (dashboards). */
export interface LatestQuery {
  readonly selector: SeriesSelector
  /** Only points before this time (exclusive). */
  readonly before?: number
}

export interface LatestValue {
  readonly key: Required<SeriesKey>
  readonly type: ValueType
  readonly time: number
  readonly value: Value
}

/** Points of the matched series in [from, to) to delete. */
export interface DeleteQuery {
  readonly selector: SeriesSelector
  readonly from: number
  readonly to: number
}

/**
 * How long points are kept: for a whole tenant (a selector with only `tenant`) or for the
 * series a selector matches. Where several rules match a series, the most specific wins (one
 * naming a device or metric over one naming only the tenant); among equals, the shortest.
 */
export interface RetentionRule {
  readonly selector: SeriesSelector
  /** In the store's unit; points older than now − maxAge are dropped. */
  readonly maxAge: number
}

/** Sizes of what the store holds. */
export interface StoreStats {
  readonly engine: 'embedded' | 'postgres'
  readonly series: number
  readonly points: number
  /** Everything on disk: chunks, catalogue, indexes, rollups, the log. */
  readonly bytesOnDisk: number
  readonly bytesPerPoint: number
  /** Engine-specific detail (chunks, partitions, log size…). */
  readonly detail: Readonly<Record<string, number>>
}
