// The light entry point: the error class only, not the whole protocol package (codecs, schemas),
// which the chunk encoder's worker threads would otherwise load at every start.
import { StrataError, type StrataErrorOptions } from '@strata/protocol/errors'
import type { chunkErrorCodes } from './chunk/chunk-error.js'

/**
 * Every error code the time-series store throws, with what it means. `docs/errors.md` lists the
 * same codes; `npm run check:docs` fails when the two disagree.
 */
export const tsdbErrorCodes = {
  TSDB_SERIES_INVALID:
    'A series key breaks a rule (empty or over-long tenant, device or metric; too many tags; a tag name or value over its limit); the message names the field.',
  TSDB_POINT_INVALID:
    'A point whose value is not a float, int64, boolean or short string, or whose timestamp is not an integer.',
  TSDB_TYPE_MISMATCH:
    'A value of another type than the series already holds (a series keeps the type of its first point).',
  TSDB_TIME_OUT_OF_RANGE:
    'A timestamp before 1970 or after 9999, or further in the future than the store accepts (clock skew).',
  TSDB_TOO_LATE:
    'A point older than the late-write window; import history with the backfill option instead.',
  TSDB_QUERY_INVALID:
    'A query that cannot be answered as asked (empty range, unknown function, a function the series type has no meaning for, a bad cursor).',
  TSDB_QUERY_TOO_LARGE:
    'A query over its limits (buckets, series, points scanned or returned); the message says which limit and how to narrow the query.',
  TSDB_QUERY_ABORTED: "A query stopped because the caller's AbortSignal fired.",
  TSDB_CLOSED: 'A call on a store after close().',
  TSDB_LOCKED: 'The data folder is open in another process; one store owns a folder at a time.',
  TSDB_IO:
    'Reading or writing the data folder or the database failed (disk full, permissions, connection lost); writes that failed were not acknowledged.',
  TSDB_WAL_CORRUPT:
    'A write-ahead log record failed its checksum before the log ended; the records before it were replayed and the rest are reported, not guessed.',
  TSDB_STORE_CORRUPT:
    'The catalogue is not a store this build can open (not SQLite, damaged, or a newer schema).',
} as const

/** One of the store's error codes, the chunk codec's included. */
export type TsdbErrorCode = keyof typeof tsdbErrorCodes | keyof typeof chunkErrorCodes

/** An error from the time-series store. */
export class TsdbError extends StrataError {
  declare readonly code: TsdbErrorCode

  constructor(code: TsdbErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
