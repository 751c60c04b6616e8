import { TsdbError } from '../errors.js'
import type { Value } from '../model/points.js'
import type { Catalogue, ChunkRow } from './catalogue.js'
import { ChunkCache } from './chunk-cache.js'
import { decodeChunk } from '../chunk/index.js'
import { decodePoints } from './chunk-points.js'
import type { Columns, SortedPoints } from './head.js'
import { mergePoints } from './sorted-points.js'
import { decodeRollups, type RollupLevel } from './rollups.js'
import type { SeriesEntry } from './series-index.js'
import { describe } from '../model/prepare-write.js'

/**
 * Reads a series' points and rollups from its chunks and head, with decoded chunks cached.
 * Damaged chunks surface as `TSDB_CHUNK_CORRUPT` naming the series and the chunk; other series
 * read on.
 */
export class SeriesReader {
  readonly #catalogue: Catalogue
  readonly #points: ChunkCache<SortedPoints>
  readonly #rollups: ChunkCache<(RollupLevel | undefined)[]>

  constructor(catalogue: Catalogue, cacheBytes: number) {
    this.#catalogue = catalogue
    this.#points = new ChunkCache(cacheBytes * 0.75)
    this.#rollups = new ChunkCache(cacheBytes * 0.25)
  }

  /** The decoded points of a chunk. */
  chunkPoints(entry: SeriesEntry, chunk: ChunkRow): SortedPoints {
    return this.#points.get(chunk.id, () => {
      const bytes = this.#catalogue.chunkData(chunk.id)
      const decoded = guard(entry, chunk, () => decodePoints(bytes))
      if (decoded.times.length !== chunk.count || decoded.type !== entry.type) {
        throw corrupt(entry, chunk, 'its contents disagree with the catalogue')
      }
      return { value: decoded, bytes: chunk.count * (entry.type === 'float' ? 16 : 48) + 64 }
    })
  }

  /** The decoded points of a chunk as columns, not cached: for rewriting it. */
  chunkColumns(entry: SeriesEntry, chunk: ChunkRow): Columns {
    const bytes = this.#catalogue.chunkData(chunk.id)
    const decoded = guard(entry, chunk, () => decodeChunk(bytes))
    if (decoded.timestamps.length !== chunk.count || decoded.type !== entry.type) {
      throw corrupt(entry, chunk, 'its contents disagree with the catalogue')
    }
    return { times: decoded.timestamps, values: decoded.values }
  }

  /** The rollup levels of a chunk. */
  chunkRollups(entry: SeriesEntry, chunk: ChunkRow): (RollupLevel | undefined)[] {
    return this.#rollups.get(chunk.id, () => {
      const bytes = this.#catalogue.chunkRollups(chunk.id)
      const levels = guard(entry, chunk, () => decodeRollups(bytes))
      return { value: levels, bytes: levels.reduce((n, l) => n + (l?.starts.length ?? 0) * 40, 64) }
    })
  }

  /**
   * Up to `limit` points of a series in [from, to), oldest first: chunk points merged with the
   * head's (the head wins on equal timestamps). Stops decoding once it has enough.
   */
  points(entry: SeriesEntry, from: number, to: number, limit = Infinity): SortedPoints {
    const head = slice(entry.head.points(), from, to)
    const out: SortedPoints = { times: [], values: [] }
    let h = 0
    for (const chunk of this.#catalogue.chunks(entry.id, from, to)) {
      const own = slice(this.chunkPoints(entry, chunk), from, to)
      const headPart: SortedPoints = { times: [], values: [] }
      while (h < head.times.length && (head.times[h] as number) <= chunk.maxTime) {
        headPart.times.push(head.times[h] as number)
        headPart.values.push(head.values[h] as Value)
        h++
      }
      append(out, mergePoints(own, headPart))
      if (out.times.length >= limit) return truncate(out, limit)
    }
    append(out, { times: head.times.slice(h), values: head.values.slice(h) })
    return truncate(out, limit)
  }
}

function guard<T>(entry: SeriesEntry, chunk: ChunkRow, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    throw corrupt(entry, chunk, (err as Error).message, err)
  }
}

function corrupt(entry: SeriesEntry, chunk: ChunkRow, why: string, cause?: unknown): TsdbError {
  return new TsdbError(
    'TSDB_CHUNK_CORRUPT',
    `chunk ${String(chunk.id)} of ${describe(entry.key)} (${String(chunk.minTime)}–${String(chunk.maxTime)}) is damaged: ${why}`,
    {
      cause,
      details: { chunk: chunk.id, from: chunk.minTime, to: chunk.maxTime },
      hint: 'Other series are unaffected. Delete that range to drop the damaged chunk, or restore the data folder from a backup.',
    },
  )
}

/** The points of sorted `p` in [from, to). */
export function slice(p: SortedPoints, from: number, to: number): SortedPoints {
  const a = lowerBound(p.times, from)
  const b = lowerBound(p.times, to)
  if (a === 0 && b === p.times.length) return p
  return { times: p.times.slice(a, b), values: p.values.slice(a, b) }
}

/** The first index whose time is ≥ `t`. */
export function lowerBound(times: readonly number[], t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((times[mid] as number) < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

function append(out: SortedPoints, more: SortedPoints): void {
  for (let i = 0; i < more.times.length; i++) {
    out.times.push(more.times[i] as number)
    out.values.push(more.values[i] as Value)
  }
}

function truncate(p: SortedPoints, limit: number): SortedPoints {
  if (p.times.length <= limit) return p
  return { times: p.times.slice(0, limit), values: p.values.slice(0, limit) }
}
