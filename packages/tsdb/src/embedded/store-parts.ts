import type { QueryLimits } from '../model/limits.js'
import type { Precision } from '../model/points.js'
import type { Catalogue } from './catalogue.js'
import type { ChunkLayout } from './chunk-writer.js'
import type { EncodePool } from './encode-pool.js'
import type { SeriesReader } from './reader.js'
import type { SeriesIndex } from './series-index.js'
import type { WriteAheadLog } from './wal.js'

/**
 * What the paths of an open embedded store share: the write path, the read path, sealing and
 * compaction, and the rewrites of deletes and retention. The store owns and closes them.
 */
export interface StoreParts {
  readonly dir: string
  readonly precision: Precision
  readonly catalogue: Catalogue
  readonly index: SeriesIndex
  readonly wal: WriteAheadLog
  readonly reader: SeriesReader
  readonly encoder: EncodePool
  readonly layout: ChunkLayout
  readonly limits: QueryLimits
  readonly now: () => number
  /** Whether `close()` has finished: background work stops and reports nothing more. */
  readonly isClosed: () => boolean
  /** Told about what goes wrong out of a caller's sight (see `onBackgroundError`). */
  readonly onBackgroundError: (err: unknown) => void
}

/** Runs `work` in the background: an error goes to `onBackgroundError` unless the store closed. */
export async function inBackground(parts: StoreParts, work: Promise<unknown>): Promise<void> {
  try {
    await work
  } catch (err) {
    if (!parts.isClosed()) parts.onBackgroundError(err)
  }
}
