/**
 * @strata/tsdb — the time-series store: one interface ({@link TimeSeriesStore}), two engines.
 */
export type { TimeSeriesStore, StoreOptions } from './store.js'
export { TsdbError, tsdbErrorCodes, type TsdbErrorCode } from './errors.js'
export {
  encodeChunk,
  decodeChunk,
  readChunkHeader,
  ChunkError,
  chunkErrorCodes,
  type ChunkData,
  type ChunkHeader,
  type ChunkErrorCode,
} from './chunk/index.js'
export {
  normalizeSeriesKey,
  canonicalSeriesKey,
  seriesLimits,
  type SeriesKey,
} from './model/series.js'
export {
  valueTypeOf,
  maxStringValueBytes,
  type Value,
  type ValueType,
  type Precision,
  type SeriesBatch,
  type WritePoint,
  type WriteOptions,
  type WriteResult,
} from './model/points.js'
export type {
  TagMatcher,
  SeriesSelector,
  SeriesInfo,
  RangeQuery,
  RangePage,
  SeriesPoints,
  AggregateFunction,
  AggregateQuery,
  AggregateGroup,
  AggregateResult,
  Fill,
  LatestQuery,
  LatestValue,
  DeleteQuery,
  RetentionRule,
  StoreStats,
} from './model/queries.js'
export { defaultQueryLimits, type QueryLimits } from './model/limits.js'
export { openEmbeddedStore, EmbeddedStore, type EmbeddedStoreOptions } from './embedded/index.js'
export { openPostgresStore, type PostgresStoreOptions } from './postgres/index.js'
