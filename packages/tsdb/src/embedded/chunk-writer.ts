import type { Value, ValueType } from '../model/points.js'
import type { Catalogue, ChunkRow, NewChunk } from './catalogue.js'
import { encodePoints } from './chunk-points.js'
import { mergePoints, type SortedPoints } from './head.js'
import { computeRollups, encodeRollups } from './rollups.js'

/** How chunks are cut: never across a window boundary, never over `maxPoints`. */
export interface ChunkLayout {
  /** Window width in the store's unit (one day): chunks never span two windows. */
  readonly window: number
  readonly maxPoints: number
  /** Rollup widths in the store's unit; each divides `window`. */
  readonly rollupWidths: readonly number[]
}

/**
 * Writes sorted points into a series' chunks: merges them with the chunks they overlap (the new
 * points win on equal timestamps) and re-cuts the result; points that overlap nothing become new
 * chunks of their own (compaction joins the small ones later, so a checkpoint never re-encodes
 * what it did not touch). Returns the replacement; the caller commits it in one transaction.
 */
export function planSeal(
  catalogue: Catalogue,
  seriesId: number,
  type: ValueType,
  points: SortedPoints,
  layout: ChunkLayout,
  decode: (chunk: ChunkRow) => SortedPoints,
): { remove: number[]; add: NewChunk[] } {
  const first = points.times[0]
  const last = points.times.at(-1)
  if (first === undefined || last === undefined) return { remove: [], add: [] }
  const touched = catalogue.chunks(seriesId, first, last + 1)
  const merged =
    touched.length === 0 ? points : mergePoints(concatPoints(touched.map(decode)), points)
  return { remove: touched.map((c) => c.id), add: cutChunks(seriesId, type, merged, layout) }
}

/**
 * Joins runs of adjacent chunks of one series' window, each run into one chunk of at most
 * `maxPoints`; chunks already that big are left alone. In a window still being written
 * (`closed` false) only chunks under a quarter of the limit join, so that a growing chunk is not
 * re-encoded at every pass; once the window has closed, any run that fits joins. Returns the
 * replacement and how many points it re-encoded.
 */
export function planCompaction(
  catalogue: Catalogue,
  seriesId: number,
  type: ValueType,
  windowStart: number,
  closed: boolean,
  layout: ChunkLayout,
  decode: (chunk: ChunkRow) => SortedPoints,
): { remove: number[]; add: NewChunk[]; points: number } {
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
  const add: NewChunk[] = []
  let points = 0
  for (const parts of runs) {
    const joined = concatPoints(parts.map(decode))
    remove.push(...parts.map((c) => c.id))
    add.push(...cutChunks(seriesId, type, joined, layout))
    points += joined.times.length
  }
  return { remove, add, points }
}

/** Cuts sorted points into chunks along window boundaries and the size limit. */
export function cutChunks(
  seriesId: number,
  type: ValueType,
  points: SortedPoints,
  layout: ChunkLayout,
): NewChunk[] {
  const chunks: NewChunk[] = []
  const n = points.times.length
  let start = 0
  while (start < n) {
    const window = Math.floor((points.times[start] as number) / layout.window)
    let end = start
    while (end < n && Math.floor((points.times[end] as number) / layout.window) === window) end++
    const parts = Math.ceil((end - start) / layout.maxPoints)
    const size = Math.ceil((end - start) / parts)
    for (let from = start; from < end; from += size) {
      const slice = {
        times: points.times.slice(from, Math.min(end, from + size)),
        values: points.values.slice(from, Math.min(end, from + size)),
      }
      chunks.push(buildChunk(seriesId, type, slice, layout))
    }
    start = end
  }
  return chunks
}

function buildChunk(
  seriesId: number,
  type: ValueType,
  points: SortedPoints,
  layout: ChunkLayout,
): NewChunk {
  return {
    seriesId,
    minTime: points.times[0] as number,
    maxTime: points.times.at(-1) as number,
    count: points.times.length,
    data: encodePoints(type, points),
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
