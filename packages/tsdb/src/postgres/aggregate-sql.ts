import type { Precision, Value } from '../model/points.js'
import type { AggregateFunction } from '../model/queries.js'
import type { Rollup } from './rollups.js'
import { epochOrigin, epochSql, intervalText } from './time.js'
import { decodeAnyValue, numericSql, splitSumSql } from './values.js'

/** What one aggregate statement reads; every value is bound as a parameter. */
export interface SqlPlan {
  readonly precision: Precision
  /** Series ids and, at the same index, the index of the group each belongs to. */
  readonly ids: readonly string[]
  readonly grps: readonly number[]
  /** Bucket width in the store's unit. */
  readonly bucket: number
  /** The range as timestamptz text. */
  readonly from: string
  readonly to: string
  readonly functions: readonly AggregateFunction[]
  /** Fractions of the percentile functions, in order. */
  readonly percentiles: readonly number[]
  /** The rollup serving the query and the whole intervals [from, to) it covers. */
  readonly rollup?: Rollup & { readonly from: string; readonly to: string }
}

/** One (group, bucket) of the result. */
export interface BucketRow {
  readonly grp: number
  /** Bucket start in the store's unit (int8 text). */
  readonly bucket: string
  /** int8 text. */
  readonly count: string
  /** The split sum (see splitSumSql). */
  readonly sum: number | null
  readonly sum_big: number | null
  readonly min: number | null
  readonly max: number | null
  readonly stddev?: number | null
  readonly percentiles?: number[] | null
  readonly first?: Value | null
  readonly last?: Value | null
}

/** $1 ids, $2 groups, $3 bucket interval, $4 from, $5 to; more as needed. */
const groupsSql = 'unnest($1::bigint[], $2::int[]) WITH ORDINALITY AS g(series_id, grp, ord)'

/** The statement of a plan and its parameters. */
export function aggregateSql(plan: SqlPlan): { sql: string; params: unknown[] } {
  const params: unknown[] = [
    plan.ids,
    plan.grps,
    intervalText(plan.bucket, plan.precision),
    plan.from,
    plan.to,
  ]
  const bucketOf = (ts: string) =>
    epochSql(`date_bin($3::interval, ${ts}, ${epochOrigin})`, plan.precision)
  if (plan.rollup !== undefined) {
    params.push(plan.rollup.from, plan.rollup.to)
    const v = numericSql('p')
    const small = `abs(${v}) < power(2::float8, 500)`
    const sql = `
      WITH parts AS (
        SELECT r.series_id, r.bucket AS ts, r.count, r.sum, r.sum_big, r.min, r.max
        FROM ${plan.rollup.table} r
        WHERE r.series_id = ANY($1::bigint[]) AND r.bucket >= $6::timestamptz AND r.bucket < $7::timestamptz
        UNION ALL
        SELECT p.series_id, p.ts, 1, CASE WHEN ${small} THEN ${v} END,
          CASE WHEN ${small} THEN NULL ELSE ${v} * power(2::float8, -600) END, ${v}, ${v}
        FROM points p
        WHERE p.series_id = ANY($1::bigint[]) AND (
          (p.ts >= $4::timestamptz AND p.ts < $6::timestamptz) OR (p.ts >= $7::timestamptz AND p.ts < $5::timestamptz))
      )
      SELECT g.grp, ${bucketOf('parts.ts')} AS bucket, sum(parts.count)::int8 AS count,
        sum(parts.sum) AS sum, sum(parts.sum_big) AS sum_big, min(parts.min) AS min, max(parts.max) AS max
      FROM parts JOIN ${groupsSql} USING (series_id)
      GROUP BY 1, 2`
    return { sql, params }
  }
  const v = numericSql('p')
  const extra: string[] = []
  if (plan.functions.includes('stddev')) extra.push(`stddev_samp(${v}) AS stddev`)
  if (plan.percentiles.length > 0) {
    params.push(plan.percentiles)
    extra.push(
      `percentile_cont($${String(params.length)}::float8[]) WITHIN GROUP (ORDER BY ${v}) AS percentiles`,
    )
  }
  const edges = plan.functions.includes('first') || plan.functions.includes('last')
  if (edges) extra.push('min(p.ts) AS first_ts', 'max(p.ts) AS last_ts')
  const buckets = `
    SELECT g.grp, ${bucketOf('p.ts')} AS bucket, count(*) AS count,
      ${splitSumSql(v)}, min(${v}) AS min, max(${v}) AS max${extra.map((e) => `, ${e}`).join('')}
    FROM ${groupsSql} JOIN points p ON p.series_id = g.series_id
    WHERE p.ts >= $4::timestamptz AND p.ts < $5::timestamptz
    GROUP BY 1, 2`
  if (!edges) return { sql: buckets, params }
  // first and last: the point at the bucket's first and last time (the first series wins a tie).
  const edge = (name: string, ts: string) => `
    LEFT JOIN LATERAL (
      SELECT p.f, p.i, p.b, p.s FROM ${groupsSql} JOIN points p ON p.series_id = g.series_id
      WHERE g.grp = a.grp AND p.ts = a.${ts} ORDER BY g.ord LIMIT 1) ${name} ON true`
  const sql = `
    WITH a AS (${buckets})
    SELECT a.grp, a.bucket, a.count, a.sum, a.sum_big, a.min, a.max${plan.functions.includes('stddev') ? ', a.stddev' : ''}${plan.percentiles.length > 0 ? ', a.percentiles' : ''},
      fv.f AS first_f, fv.i AS first_i, fv.b AS first_b, fv.s AS first_s,
      lv.f AS last_f, lv.i AS last_i, lv.b AS last_b, lv.s AS last_s
    FROM a ${edge('fv', 'first_ts')} ${edge('lv', 'last_ts')}`
  return { sql, params }
}

/** A result row with first/last decoded from their value columns. */
export function readBucketRow(raw: Record<string, unknown>): BucketRow {
  const pick = (prefix: string) =>
    decodeAnyValue({
      f: raw[`${prefix}_f`] as number | null,
      i: raw[`${prefix}_i`] as string | null,
      b: raw[`${prefix}_b`] as boolean | null,
      s: raw[`${prefix}_s`] as string | null,
    })
  return 'first_f' in raw
    ? { ...(raw as unknown as BucketRow), first: pick('first'), last: pick('last') }
    : (raw as unknown as BucketRow)
}
