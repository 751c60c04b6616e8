import { decodeCursor, encodeCursor } from '../model/cursor.js'
import { checkSeriesCount, checkTimeRange, pageSizeOf, throwIfAborted } from '../model/limits.js'
import type { Value } from '../model/points.js'
import type {
  LatestQuery,
  LatestValue,
  RangePage,
  RangeQuery,
  SeriesPoints,
} from '../model/queries.js'
import { lowerBound } from './reader.js'
import type { LatestPoint, SeriesEntry } from './series-index.js'
import type { StoreParts } from './store-parts.js'

/**
 * One page of a range read: series in canonical order, each from its head and chunks, at most
 * the query's page size of points; the cursor resumes after the last point returned.
 */
export async function readPage(parts: StoreParts, query: RangeQuery): Promise<RangePage> {
  checkTimeRange(query.from, query.to, parts.precision)
  const limit = pageSizeOf(query, parts.limits)
  const cursor =
    query.cursor === undefined || query.cursor === null ? undefined : decodeCursor(query.cursor)
  const matched = parts.index.match(query.selector)
  checkSeriesCount(matched.length, parts.limits)
  throwIfAborted(query.signal)
  const page: SeriesPoints[] = []
  let left = limit
  for (const entry of matched) {
    if (cursor !== undefined && entry.canonical < cursor.series) continue
    const from =
      cursor !== undefined && entry.canonical === cursor.series
        ? Math.max(query.from, cursor.after + 1)
        : query.from
    if (from >= query.to) continue
    const points = parts.reader.points(entry, from, query.to, left + 1)
    if (points.times.length === 0) continue
    const more = points.times.length > left
    const taken = more
      ? { times: points.times.slice(0, left), values: points.values.slice(0, left) }
      : points
    if (taken.times.length > 0)
      page.push({ key: entry.key, type: entry.type, times: taken.times, values: taken.values })
    left -= taken.times.length
    if (more || left === 0) {
      const last = taken.times.at(-1) ?? from - 1
      return { series: page, cursor: encodeCursor({ series: entry.canonical, after: last }) }
    }
    await Promise.resolve()
    throwIfAborted(query.signal)
  }
  return { series: page, cursor: null }
}

/** The latest point of every matched series (before `query.before` if given). */
export function latestValues(parts: StoreParts, query: LatestQuery): LatestValue[] {
  const matched = parts.index.match(query.selector)
  checkSeriesCount(matched.length, parts.limits)
  const out: LatestValue[] = []
  for (const entry of matched) {
    const point =
      query.before === undefined ? latestOf(parts, entry) : latestBefore(parts, entry, query.before)
    if (point !== null)
      out.push({ key: entry.key, type: entry.type, time: point.time, value: point.value })
  }
  return out
}

/** A series' latest point, kept on its index entry (writes keep it up to date). */
function latestOf(parts: StoreParts, entry: SeriesEntry): LatestPoint | null {
  if (entry.latest === undefined) entry.latest = latestBefore(parts, entry, Number.MAX_SAFE_INTEGER)
  return entry.latest
}

function latestBefore(parts: StoreParts, entry: SeriesEntry, before: number): LatestPoint | null {
  const head = entry.head.points()
  const h = lowerBound(head.times, before) - 1
  let best = h >= 0 ? { time: head.times[h] as number, value: head.values[h] as Value } : null
  const chunk = parts.catalogue.lastChunkBefore(entry.id, before)
  if (chunk !== undefined && (best === null || chunk.maxTime > best.time)) {
    const points = parts.reader.chunkPoints(entry, chunk)
    const c = lowerBound(points.times, before) - 1
    const t = points.times[c]
    if (t !== undefined && (best === null || t > best.time))
      best = { time: t, value: points.values[c] as Value }
  }
  return best
}
