import { TsdbError } from '../errors.js'
import { checkFunctionsForType, fillColumn, rollupServes } from '../model/buckets.js'
import { checkAggregate, checkCells, percentileOf, type QueryLimits } from '../model/limits.js'
import type { Precision, Value } from '../model/points.js'
import { describe } from '../model/prepare-write.js'
import type { AggregateGroup, AggregateQuery, AggregateResult } from '../model/queries.js'
import type { Database } from './database.js'
import { aggregateSql, readBucketRow, type SqlPlan } from './aggregate-sql.js'
import { rollupsWidestFirst } from './rollups.js'
import type { SeriesCatalog, SeriesRow } from './series-catalog.js'
import { splitSumTotal } from './values.js'
import { toMicros, toTimestamptz } from './time.js'

export interface AggregatorContext {
  readonly db: Database
  readonly catalog: SeriesCatalog
  readonly precision: Precision
  readonly limits: QueryLimits
}

/** A group being built: its series and its dense bucket columns. */
interface GroupBuild {
  readonly series?: Required<SeriesRow['key']>
  readonly tags: Record<string, string>
  readonly members: SeriesRow[]
}

/**
 * Aggregates per `date_bin` bucket in SQL. When every function is one of count, sum, min, max
 * and mean and the bucket is a multiple of a rollup's width, whole rollup intervals are read
 * instead of points (points only at the range's partial edges); otherwise points are, within
 * `maxScannedPoints`. Both paths give the same results.
 */
export async function aggregate(
  ctx: AggregatorContext,
  query: AggregateQuery,
): Promise<AggregateResult> {
  const { precision, limits } = ctx
  const buckets = checkAggregate(query, precision, limits)
  const rows = await ctx.catalog.resolve(query.selector, limits, query.signal)
  for (const row of rows) checkFunctionsForType(query.functions, row.type, describe(row.key))
  const groups = groupSeries(rows, query.groupBy ?? 'series')
  checkCells(groups.length, buckets, limits)
  if (groups.length === 0) return { groups: [] }

  const plan = planOf(query, precision, groups)
  if (plan.rollup === undefined) await checkScanned(ctx, plan, query)
  const { sql, params } = aggregateSql(plan)
  const result = (await ctx.db.query(sql, params, query.signal)).map(readBucketRow)

  const fill = query.fill ?? 'none'
  const firstStart = query.from - (query.from % query.bucket)
  const columns = groups.map(() => emptyColumns(query, buckets))
  for (const row of result) {
    const group = columns[row.grp] as ReturnType<typeof emptyColumns>
    const k = (Number(row.bucket) - firstStart) / query.bucket
    const count = Number(row.count)
    group.counts[k] = count
    for (const fn of query.functions) {
      ;(group.values[fn] as (Value | null)[])[k] = valueOf(fn, row, count, plan)
    }
  }
  return {
    groups: groups.map((g, n) => {
      const { counts, values } = columns[n] as ReturnType<typeof emptyColumns>
      const keep = counts.flatMap((c, k) => (fill !== 'none' || c > 0 ? [k] : []))
      const times = keep.map((k) => firstStart + k * query.bucket)
      const out: Record<string, (Value | null)[]> = {}
      for (const fn of query.functions) {
        if (fn === 'count') {
          out[fn] = keep.map((k) => counts[k] as number)
          continue
        }
        out[fn] = fillColumn(
          keep.map((k) => (values[fn] as (Value | null)[])[k] ?? null),
          times,
          fill,
        )
      }
      const group: AggregateGroup = { tags: g.tags, times, values: out }
      return g.series === undefined ? group : { ...group, series: g.series }
    }),
  }
}

/** One group per series, or per distinct value combination of the grouping tags. */
function groupSeries(
  rows: readonly SeriesRow[],
  groupBy: 'series' | readonly string[],
): GroupBuild[] {
  if (groupBy === 'series') {
    return rows.map((row) => ({ series: row.key, tags: row.key.tags, members: [row] }))
  }
  const byKey = new Map<string, GroupBuild>()
  for (const row of rows) {
    const tags = Object.fromEntries(groupBy.map((name) => [name, row.key.tags[name] ?? '']))
    const key = JSON.stringify(groupBy.map((name) => tags[name]))
    let group = byKey.get(key)
    if (group === undefined) {
      group = { tags, members: [] }
      byKey.set(key, group)
    }
    group.members.push(row)
  }
  return [...byKey]
    .sort(([a], [b]) => compareArrays(JSON.parse(a) as string[], JSON.parse(b) as string[]))
    .map(([, group]) => group)
}

function compareArrays(a: readonly string[], b: readonly string[]): number {
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as string
    const y = b[k] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

function planOf(
  query: AggregateQuery,
  precision: Precision,
  groups: readonly GroupBuild[],
): SqlPlan {
  const bucketUs = toMicros(query.bucket, precision)
  const rollup = rollupServes(query.functions)
    ? rollupsWidestFirst.find((r) => bucketUs % r.widthUs === 0)
    : undefined
  const ids: string[] = []
  const grps: number[] = []
  groups.forEach((g, n) => {
    for (const member of g.members) {
      ids.push(member.id)
      grps.push(n)
    }
  })
  const percentiles = query.functions.flatMap((fn) => {
    const p = percentileOf(fn)
    return p === undefined ? [] : [p]
  })
  let inner: { from: string; to: string } | undefined
  if (rollup !== undefined) {
    // Whole rollup intervals inside [from, to); the partial edges come from points.
    const width = precision === 'ms' ? rollup.widthUs / 1000 : rollup.widthUs
    const start = query.from % width === 0 ? query.from : query.from - (query.from % width) + width
    const end = query.to - (query.to % width)
    const [a, b] = start < end ? [start, end] : [query.to, query.to]
    inner = { from: toTimestamptz(a, precision), to: toTimestamptz(b, precision) }
  }
  return {
    precision,
    ids,
    grps,
    bucket: query.bucket,
    from: toTimestamptz(query.from, precision),
    to: toTimestamptz(query.to, precision),
    functions: query.functions,
    percentiles,
    ...(rollup === undefined || inner === undefined ? {} : { rollup: { ...rollup, ...inner } }),
  }
}

/** Refuses a raw aggregate over more than `maxScannedPoints` (counted from the hourly rollup). */
async function checkScanned(ctx: AggregatorContext, plan: SqlPlan, query: AggregateQuery) {
  const [row] = await ctx.db.query<{ n: string }>(
    `SELECT coalesce(sum(count), 0)::int8 AS n FROM rollup_1h
     WHERE series_id = ANY($1::bigint[]) AND bucket >= date_bin('1 hour', $2::timestamptz, '1970-01-01 00:00:00+00') AND bucket < $3::timestamptz`,
    [plan.ids, plan.from, plan.to],
    query.signal,
  )
  const scanned = Number(row?.n ?? 0)
  if (scanned > ctx.limits.maxScannedPoints) {
    throw new TsdbError(
      'TSDB_QUERY_TOO_LARGE',
      `the aggregate would read ${scanned.toLocaleString('en')} points; the limit is ${ctx.limits.maxScannedPoints.toLocaleString('en')}`,
      {
        hint: 'Shorten the range, select fewer series, or ask only count, sum, min, max and mean with a bucket of a multiple of 5 minutes (served by rollups).',
        details: { points: scanned, limit: ctx.limits.maxScannedPoints },
      },
    )
  }
}

function emptyColumns(query: AggregateQuery, buckets: number) {
  const values: Record<string, (Value | null)[]> = {}
  for (const fn of query.functions) values[fn] = new Array<Value | null>(buckets).fill(null)
  return { counts: new Array<number>(buckets).fill(0), values }
}

/** The value of one function in one bucket row. */
function valueOf(
  fn: string,
  row: ReturnType<typeof readBucketRow>,
  count: number,
  plan: SqlPlan,
): Value | null {
  switch (fn) {
    case 'count':
      return count
    case 'sum':
      return splitSumTotal(row.sum, row.sum_big)
    case 'min':
      return row.min
    case 'max':
      return row.max
    case 'mean': {
      const sum = splitSumTotal(row.sum, row.sum_big)
      return sum === null ? null : sum / count
    }
    case 'stddev':
      return row.stddev ?? null
    case 'first':
      return row.first ?? null
    case 'last':
      return row.last ?? null
    default: {
      const index = plan.percentiles.indexOf(percentileOf(fn) as number)
      return row.percentiles?.[index] ?? null
    }
  }
}
