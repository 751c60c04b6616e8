import { BucketAccumulator, checkFunctionsForType, rollupServes } from '../model/buckets.js'
import {
  checkAggregate,
  checkCells,
  checkSeriesCount,
  throwIfAborted,
  type QueryLimits,
} from '../model/limits.js'
import type { Precision } from '../model/points.js'
import type { AggregateGroup, AggregateQuery, AggregateResult } from '../model/queries.js'
import { describe } from '../model/prepare-write.js'
import { TsdbError } from '../errors.js'
import type { Catalogue } from './catalogue.js'
import type { SortedPoints } from './head.js'
import { mergePoints } from './sorted-points.js'
import { concatPoints } from './chunk-writer.js'
import { lowerBound, slice, type SeriesReader } from './reader.js'
import type { SeriesEntry, SeriesIndex } from './series-index.js'

interface Group {
  readonly key: string
  readonly meta: Omit<AggregateGroup, 'times' | 'values'>
  readonly acc: BucketAccumulator
}

/**
 * Aggregates per bucket: from chunk rollups where every function allows it and a chunk lies
 * wholly in range with no unsealed points over it, from raw points otherwise. Yields to the event
 * loop between series so a caller's abort is seen.
 */
export async function aggregate(
  query: AggregateQuery,
  ctx: {
    index: SeriesIndex
    catalogue: Catalogue
    reader: SeriesReader
    precision: Precision
    limits: QueryLimits
    rollupWidths: readonly number[]
  },
): Promise<AggregateResult> {
  const buckets = checkAggregate(query, ctx.precision, ctx.limits)
  const matched = ctx.index.match(query.selector)
  checkSeriesCount(matched.length, ctx.limits)
  for (const entry of matched)
    checkFunctionsForType(query.functions, entry.type, describe(entry.key))
  const groupBy = query.groupBy ?? 'series'
  const keyOf = (entry: SeriesEntry): string =>
    groupBy === 'series'
      ? entry.canonical
      : JSON.stringify(groupBy.map((t) => entry.key.tags[t] ?? ''))
  const groupKeys = new Set(matched.map(keyOf))
  checkCells(groupKeys.size, buckets, ctx.limits)

  const width = rollupServes(query.functions)
    ? ctx.rollupWidths.findLast((w) => query.bucket % w === 0)
    : undefined
  const level = width === undefined ? -1 : ctx.rollupWidths.indexOf(width)
  const groups = new Map<string, Group>()
  let scanned = 0
  let lastYield = performance.now()
  for (const entry of matched) {
    if (performance.now() - lastYield > 20) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      lastYield = performance.now()
    }
    throwIfAborted(query.signal)
    const key = keyOf(entry)
    let group = groups.get(key)
    if (group === undefined) {
      const meta =
        groupBy === 'series'
          ? { series: entry.key, tags: entry.key.tags }
          : { tags: Object.fromEntries(groupBy.map((t) => [t, entry.key.tags[t] ?? ''])) }
      group = {
        key,
        meta,
        acc: new BucketAccumulator(query.from, query.to, query.bucket, query.functions),
      }
      groups.set(key, group)
    }
    scanned += addSeries(entry, group.acc, query, level, ctx)
    if (scanned > ctx.limits.maxScannedPoints) {
      throw new TsdbError(
        'TSDB_QUERY_TOO_LARGE',
        `the query reads more than ${ctx.limits.maxScannedPoints.toLocaleString('en')} raw points`,
        {
          hint: 'Use count, sum, min, max or mean (served from rollups), a shorter range or fewer series.',
        },
      )
    }
  }
  const fill = query.fill ?? 'none'
  const sorted = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return { groups: sorted.map((g) => ({ ...g.meta, ...g.acc.finish(query.functions, fill) })) }
}

/** Adds one series to its group; returns how many raw points it read. */
function addSeries(
  entry: SeriesEntry,
  acc: BucketAccumulator,
  query: AggregateQuery,
  level: number,
  ctx: { catalogue: Catalogue; reader: SeriesReader },
): number {
  const { from, to } = query
  const head = slice(entry.head.points(), from, to)
  const raw: SortedPoints[] = []
  let h = 0
  for (const chunk of ctx.catalogue.chunks(entry.id, from, to)) {
    // Head points up to this chunk's end either fall inside it (then it is read raw) or before it.
    const headStart = h
    while (h < head.times.length && (head.times[h] as number) <= chunk.maxTime) h++
    const headInside = h > headStart && (head.times[h - 1] as number) >= chunk.minTime
    if (level >= 0 && !headInside && chunk.minTime >= from && chunk.maxTime < to) {
      const rollup = ctx.reader.chunkRollups(entry, chunk)[level]
      if (rollup !== undefined) {
        for (let i = 0; i < rollup.starts.length; i++) {
          acc.addRollup(
            acc.indexOf(rollup.starts[i] as number),
            rollup.count[i] as number,
            rollup.sum[i] as number,
            rollup.min[i] as number,
            rollup.max[i] as number,
          )
        }
        continue
      }
    }
    raw.push(ctx.reader.chunkPoints(entry, chunk))
  }
  if (head.times.length === 0) {
    // Nothing unsealed in range: read each chunk's points where they lie, copying nothing.
    let scanned = 0
    for (const points of raw) {
      const start = lowerBound(points.times, from)
      const end = lowerBound(points.times, to)
      acc.addSorted(points.times, points.values, start, end)
      scanned += end - start
    }
    return scanned
  }
  const inRange = raw.map((points) => slice(points, from, to))
  const points = mergePoints(
    concatPoints(inRange.length === 0 ? [{ times: [], values: [] }] : inRange),
    head,
  )
  acc.addSorted(points.times, points.values, 0, points.times.length)
  return points.times.length
}
