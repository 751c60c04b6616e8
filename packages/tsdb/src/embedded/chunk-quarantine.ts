import { TsdbError } from '../errors.js'
import type { ChunkRow } from './catalogue.js'
import { allocValues, type Columns, type SortedPoints } from './head.js'
import type { SeriesEntry } from './series-index.js'
import type { StoreParts } from './store-parts.js'

/**
 * A chunk's points for rewriting it; a damaged chunk is moved to the quarantine table (kept,
 * reported, out of the way) so that sealing and deletes go on for everything else.
 */
export function decodeOrQuarantine(
  parts: StoreParts,
  entry: SeriesEntry,
  chunk: ChunkRow,
): SortedPoints {
  return orQuarantine(parts, chunk, () => parts.reader.chunkPoints(entry, chunk), {
    times: [],
    values: [],
  })
}

/** The same as columns, not cached (compaction reads each chunk once). */
export function columnsOrQuarantine(
  parts: StoreParts,
  entry: SeriesEntry,
  chunk: ChunkRow,
): Columns {
  return orQuarantine(parts, chunk, () => parts.reader.chunkColumns(entry, chunk), {
    times: new Float64Array(0),
    values: allocValues(entry.type, 0),
  })
}

function orQuarantine<T>(parts: StoreParts, chunk: ChunkRow, decode: () => T, empty: T): T {
  try {
    return decode()
  } catch (err) {
    if (!(err instanceof TsdbError) || err.code !== 'TSDB_CHUNK_CORRUPT') throw err
    parts.catalogue.quarantine(chunk.id, err.message)
    parts.onBackgroundError(err)
    return empty
  }
}
