import { TsdbError } from '../errors.js'
import type { StoreOptions } from '../store.js'

/** Options of the PostgreSQL engine, on top of those both engines take. */
export interface PostgresStoreOptions extends StoreOptions {
  /** A `postgres://` connection URL. */
  readonly url: string
  /** The schema holding every table of the store (default `strata_tsdb`); created when missing. */
  readonly schema?: string
  /** Connections in the pool (default 10). */
  readonly poolSize?: number
  /** How often retention runs in the background, in ms (default 10 minutes; 0 turns it off). */
  readonly retentionIntervalMs?: number
  /** Receives errors of background work (retention), which has no caller to throw to. */
  readonly onBackgroundError?: (err: unknown) => void
}

export const defaultSchema = 'strata_tsdb'
export const defaultPoolSize = 10
export const defaultRetentionIntervalMs = 10 * 60_000

/**
 * Checks a schema name is a plain lower-case identifier, so it can be written into SQL (and the
 * connection's search_path) without quoting surprises.
 */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TsdbError(
      'TSDB_QUERY_INVALID',
      `schema ${JSON.stringify(schema)} is not a valid name`,
      {
        hint: 'Use 1–63 lower-case letters, digits and underscores, not starting with a digit.',
      },
    )
  }
  return schema
}
