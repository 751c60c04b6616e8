import { encodeChunk } from '../chunk/index.js'
import type { Value, ValueType } from '../model/points.js'
import type { Catalogue, ChunkRow, NewChunk } from './catalogue.js'
import {
  concatColumns,
  pointsToColumns,
  sliceColumns,
  valuesToArray,
  type Columns,
  type SortedPoints,
} from './head.js'
import { computeRollups, encodeRollups } from './rollups.js'
import { mergePoints } from './sorted-points.js'

/** How chunks are cut: never across a window boundary, never over `maxPoints`. */
export interface ChunkLayout {
  /** Window width in the store's unit (one day): chunks never span two windows. */
  readonly window: number
  readonly maxPoints: number
  /** Rollup widths in the store's unit; each divides `window`. */
  readonly rollupWidths: readonly number[]
}

/**
 * Sorted points to seal into a series' chunks, merged with the chunks they overlap (the new
 * points win on equal timestamps): the points to cut into new chunks and the chunks they
 * replace. Points that overlap nothing become new chunks of their own (compaction joins small
 * ones later, so a checkpoint never re-encodes what it did not touch).
 */
export function mergeForSeal(
  catalogue: Catalogue,
  seriesId: number,
  type: ValueType,
  points: Columns,
  decode: (chunk: ChunkRow) => SortedPoints,
): { remove: number[]; points: Columns } {
  const first = points.times[0]
  const last = points.times.at(-1)
  if (first === undefined || last === undefined) return { remove: [], points }
  const touched = catalogue.chunks(seriesId, first, last + 1)
  if (touched.length === 0) return { remove: [], points }
  // A late write over sealed chunks: rare, merged point by point.
  const merged = mergePoints(concatPoints(touched.map(decode)), {
    times: Array.from(points.times),
    values: valuesToArray(type, points.values),
  })
  return { remove: touched.map((c) => c.id), points: pointsToColumns(type, merged) }
}

/**
 * Joins runs of adjacent chunks of one series' window, each run into one chunk of at most
 * `maxPoints`; chunks already that big are left alone. In a window still being written
 * (`closed` false) only chunks under a quarter of the limit join, so that a growing chunk is not
 * re-encoded at every pass; once the window has closed, any run that fits joins. Returns the
 * chunks to remove, the joined points of each run (to encode) and how many points they hold.
 */
export function planCompaction(
  catalogue: Catalogue,
  seriesId: number,
  type: ValueType,
  windowStart: number,
  closed: boolean,
  layout: ChunkLayout,
  decode: (chunk: ChunkRow) => Columns,
): { remove: number[]; joined: Columns[]; points: number } {
  const joinable = (c: ChunkRow): boolean =>
    closed ? c.count < layout.maxPoints : c.count < layout.maxPoints / 4
  const runs: ChunkRow[][] = []
  let run: ChunkRow[] = []
  let size = 0
  for (const chunk of catalogue.chunks(seriesId, windowStart, windowStart + layout.window)) {
    if (!joinable(chunk) || size + chunk.count > layout.maxPoints) {
      if (run.length > 1) runs.push(run)
      run = []
      size = 0
      if (!joinable(chunk)) continue
    }
    run.push(chunk)
    size += chunk.count
  }
  if (run.length > 1) runs.push(run)
  const remove: number[] = []
  const joined: Columns[] = []
  let points = 0
  for (const parts of runs) {
    const run = concatColumns(type, parts.map(decode))
    remove.push(...parts.map((c) => c.id))
    joined.push(run)
    points += run.times.length
  }
  return { remove, joined, points }
}

/** Cuts sorted points into chunks along window boundaries and the size limit. */
export function cutChunks(
  seriesId: number,
  type: ValueType,
  points: SortedPoints,
  layout: ChunkLayout,
): NewChunk[] {
  return cutColumns(seriesId, type, pointsToColumns(type, points), layout)
}

/** The same for columns. */
export function cutColumns(
  seriesId: number,
  type: ValueType,
  points: Columns,
  layout: ChunkLayout,
): NewChunk[] {
  const chunks: NewChunk[] = []
  for (const [from, to] of chunkRanges(points.times, layout)) {
    chunks.push(buildChunk(seriesId, type, sliceColumns(points, from, to), layout))
  }
  return chunks
}

/**
 * Where sorted times are cut into chunks: at window boundaries, and each window's points in
 * `ceil(count / maxPoints)` parts of (nearly) equal size.
 */
export function chunkRanges(times: ArrayLike<number>, layout: ChunkLayout): [number, number][] {
  const ranges: [number, number][] = []
  const n = times.length
  let start = 0
  while (start < n) {
    const end = windowEnd(times, start, layout.window)
    const parts = Math.ceil((end - start) / layout.maxPoints)
    const size = Math.ceil((end - start) / parts)
    for (let from = start; from < end; from += size) ranges.push([from, Math.min(end, from + size)])
    start = end
  }
  return ranges
}

/** The index after the last of sorted `times` in the window of `times[start]`. */
export function windowEnd(times: ArrayLike<number>, start: number, window: number): number {
  const limit = (Math.floor((times[start] as number) / window) + 1) * window
  let lo = start
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((times[mid] as number) < limit) lo = mid + 1
    else hi = mid
  }
  return lo
}

function buildChunk(
  seriesId: number,
  type: ValueType,
  points: Columns,
  layout: ChunkLayout,
): NewChunk {
  return {
    seriesId,
    minTime: points.times[0] as number,
    maxTime: points.times.at(-1) as number,
    count: points.times.length,
    data: encodeChunk({ type, timestamps: points.times, values: points.values }),
    rollups: encodeRollups(computeRollups(type, points, layout.rollupWidths)),
  }
}

/** Joins the points of chunks that are already in order and do not overlap. */
export function concatPoints(parts: readonly SortedPoints[]): SortedPoints {
  if (parts.length === 1) return parts[0] as SortedPoints
  const times: number[] = []
  const values: Value[] = []
  for (const p of parts) {
    for (let i = 0; i < p.times.length; i++) {
      times.push(p.times[i] as number)
      values.push(p.values[i] as Value)
    }
  }
  return { times, values }
}

/**
 * Removes points in [from, to) from a series' chunks: chunks wholly inside go, chunks across an
 * edge are re-cut from what remains. Returns the replacement and how many points went.
 */
export function planDelete(
  catalogue: Catalogue,
  seriesId: number,
  type: ValueType,
  from: number,
  to: number,
  layout: ChunkLayout,
  decode: (chunk: ChunkRow) => SortedPoints,
): { remove: number[]; add: NewChunk[]; points: number } {
  const remove: number[] = []
  const add: NewChunk[] = []
  let removed = 0
  for (const chunk of catalogue.chunks(seriesId, from, to)) {
    remove.push(chunk.id)
    if (chunk.minTime >= from && chunk.maxTime < to) {
      removed += chunk.count
      continue
    }
    const { times, values } = decode(chunk)
    const kept: SortedPoints = { times: [], values: [] }
    for (let i = 0; i < times.length; i++) {
      const t = times[i] as number
      if (t >= from && t < to) continue
      kept.times.push(t)
      kept.values.push(values[i] as Value)
    }
    removed += times.length - kept.times.length
    add.push(...cutChunks(seriesId, type, kept, layout))
  }
  return { remove, add, points: removed }
}
