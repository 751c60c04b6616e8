import type { ValueType } from '../model/points.js'
import { windowEnd, type ChunkLayout } from './chunk-writer.js'
import { concatColumns, sliceColumns, type Columns } from './head.js'
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
