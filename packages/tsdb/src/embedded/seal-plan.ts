import type { ValueType } from '../model/points.js'
import { windowEnd, type ChunkLayout } from './chunk-writer.js'
import { concatColumns, sliceColumns, type Columns } from './head.js'
import type { Catalogue } from './catalogue.js'
import type { EncodeJob } from './encode-batch.js'
import type { SeriesEntry, SeriesIndex } from './series-index.js'
import { encodeWriteRecord } from './wal-record.js'

/**
 * A series' head split at a checkpoint: what to seal (one part per window) and what stays
 * (possibly a view of the head's columns: `SeriesHead.replace` copies it).
 */
export interface HeadSplit {
  readonly seal: Columns[]
  readonly keep: Columns
}

/** Sorted head points split by window, every point sealed. */
export function sealEverything(points: Columns, layout: ChunkLayout): HeadSplit {
  const seal: Columns[] = []
  for (let start = 0; start < points.times.length;) {
    const end = windowEnd(points.times, start, layout.window)
    seal.push(sliceColumns(points, start, end))
    start = end
  }
  return { seal, keep: emptyColumns(points) }
}

/**
 * Sorted head points split for a checkpoint that only relieves the head: windows that closed
 * before `closedBefore` seal whole; of a window still open only whole chunks (`maxPoints` each)
 * seal, and the rest stays in the head, so that it is not sealed as a small chunk that
 * compaction must decode and encode again once the window is complete.
 */
export function sealWholeChunks(
  type: ValueType,
  points: Columns,
  layout: ChunkLayout,
  closedBefore: number,
): HeadSplit {
  const { times } = points
  const seal: Columns[] = []
  const keep: Columns[] = []
  for (let start = 0; start < times.length;) {
    const end = windowEnd(times, start, layout.window)
    const closes = (Math.floor((times[start] as number) / layout.window) + 1) * layout.window
    const whole =
      closes <= closedBefore
        ? end - start
        : Math.floor((end - start) / layout.maxPoints) * layout.maxPoints
    if (whole > 0) seal.push(sliceColumns(points, start, start + whole))
    if (start + whole < end) keep.push(sliceColumns(points, start + whole, end))
    start = end
  }
  return {
    seal,
    keep: keep.length === 0 ? emptyColumns(points) : concatColumns(type, keep),
  }
}

function emptyColumns(like: Columns): Columns {
  const v = like.values
  return { times: new Float64Array(0), values: Array.isArray(v) ? [] : v.subarray(0, 0) }
}

/** Bytes a carried log record is kept under (a string point takes up to 8 + 2 + 256). */
const carryRecordBytes = 64 * 1024 * 1024

/** Points a checkpoint left in the head, as log records (each under `maxBytes`) for the new segment. */
export function carriedRecords(
  carried: readonly { seriesId: number; type: ValueType; keep: Columns }[],
  maxBytes = carryRecordBytes,
): Buffer[] {
  const records: Buffer[] = []
  let group: { seriesId: number; type: ValueType; keep: Columns }[] = []
  let bytes = 0
  const flush = (): void => {
    if (group.length === 0) return
    records.push(
      encodeWriteRecord(
        group.map(({ seriesId, type, keep }) => ({
          seriesId,
          type,
          times: keep.times,
          values: keep.values,
        })),
      ),
    )
    group = []
    bytes = 0
  }
  for (const c of carried) {
    const perPoint = c.type === 'string' ? 266 : 16
    // One series' points may need several records.
    for (let from = 0; from < c.keep.times.length;) {
      const room = Math.max(1, Math.floor((maxBytes - bytes) / perPoint))
      const to = Math.min(c.keep.times.length, from + room)
      group.push({ seriesId: c.seriesId, type: c.type, keep: sliceColumns(c.keep, from, to) })
      bytes += (to - from) * perPoint + 16
      if (bytes >= maxBytes - perPoint) flush()
      from = to
    }
  }
  flush()
  return records
}

/** What a background seal took from the heads: the chunks to replace and the points to encode. */
export interface TakenForSeal {
  readonly entries: SeriesEntry[]
  readonly remove: number[]
  readonly jobs: EncodeJob[]
}

/**
 * Takes the whole chunks (and closed windows) out of the heads for a seal that runs while writes
 * go on: each head keeps the rest live and holds what was taken as sealing, visible to readers,
 * until `sealed()` (chunks stored) or `unseal()` (the seal failed). Late points over sealed
 * chunks are merged with them here (those chunks are then replaced). Of the series in `sealAll`
 * every live point is taken (a head over its budget is relieved that way).
 */
export function takeWholeChunks(
  entries: Iterable<SeriesEntry>,
  layout: ChunkLayout,
  closedBefore: number,
  merge: (entry: SeriesEntry, part: Columns) => { remove: number[]; points: Columns },
  sealAll: ReadonlySet<SeriesEntry> = new Set(),
): TakenForSeal {
  const taken: TakenForSeal = { entries: [], remove: [], jobs: [] }
  for (const entry of entries) {
    const { head } = entry
    if (head.liveSize === 0) continue
    const live = head.live()
    const all = sealAll.has(entry)
    const opens = (Math.floor((live.times[0] as number) / layout.window) + 1) * layout.window
    if (!all && head.liveSize < layout.maxPoints && opens > closedBefore) continue
    const split = all
      ? sealEverything(live, layout)
      : sealWholeChunks(entry.type, live, layout, closedBefore)
    if (split.seal.length === 0) continue
    for (const part of split.seal) {
      const merged = merge(entry, part)
      taken.remove.push(...merged.remove)
      taken.jobs.push({ seriesId: entry.id, type: entry.type, ...merged.points })
    }
    head.detach(split.keep, concatColumns(entry.type, split.seal))
    taken.entries.push(entry)
  }
  return taken
}

/** Whether a replayed head holds points in the time span of a series' sealed chunks. */
export function replayedOverSealed(index: SeriesIndex, catalogue: Catalogue): boolean {
  for (const entry of index.all()) {
    const { times } = entry.head.live()
    const first = times[0]
    const last = times.at(-1)
    if (first === undefined || last === undefined) continue
    if (catalogue.chunks(entry.id, first, last + 1).length > 0) return true
  }
  return false
}
