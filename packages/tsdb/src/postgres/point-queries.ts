import { TsdbError } from '../errors.js'
import { checkTimeRange, type QueryLimits } from '../model/limits.js'
import { timeRange, type Precision } from '../model/points.js'
import type { DeleteQuery, LatestQuery, LatestValue } from '../model/queries.js'
import type { Database } from './database.js'
import { createScratchTables, deleteRollupRange, lockSeries } from './rollups.js'
import type { SeriesCatalog, SeriesRow } from './series-catalog.js'
import { epochSql, toTimestamptz } from './time.js'
import { decodeValue, type ValueColumns } from './values.js'

export interface PointQueryContext {
  readonly db: Database
  readonly catalog: SeriesCatalog
  readonly precision: Precision
  readonly limits: QueryLimits
}

/**
 * The newest point of each matched series, one backward index probe per series (partitions are
 * visited newest first, so a recent point is found in the newest partition).
 */
export async function latest(ctx: PointQueryContext, query: LatestQuery): Promise<LatestValue[]> {
  const rows = await ctx.catalog.resolve(query.selector, ctx.limits)
  if (rows.length === 0) return []
  const params: unknown[] = [rows.map((r) => r.id)]
  let before = ''
  if (query.before !== undefined) {
    if (!Number.isSafeInteger(query.before)) {
      throw new TsdbError('TSDB_QUERY_INVALID', 'before must be an integer timestamp')
    }
    const { max } = timeRange(ctx.precision)
    params.push(toTimestamptz(Math.max(0, Math.min(query.before, max)), ctx.precision))
    before = 'AND p.ts < $2::timestamptz'
  }
  const found = await ctx.db.query<ValueColumns & { series_id: string; t: string }>(
    `SELECT o.id AS series_id, x.t, x.f, x.i, x.b, x.s FROM unnest($1::bigint[]) AS o(id)
     CROSS JOIN LATERAL (
       SELECT ${epochSql('p.ts', ctx.precision)} AS t, p.f, p.i, p.b, p.s FROM points p
       WHERE p.series_id = o.id ${before} ORDER BY p.ts DESC LIMIT 1) x`,
    params,
  )
  const byId = new Map(found.map((r) => [r.series_id, r]))
  return rows.flatMap((row: SeriesRow) => {
    const point = byId.get(row.id)
    if (point === undefined) return []
    return [
      { key: row.key, type: row.type, time: Number(point.t), value: decodeValue(point, row.type) },
    ]
  })
}

/** Deletes the matched series' points in [from, to), keeping rollups in step. */
export async function deletePoints(ctx: PointQueryContext, query: DeleteQuery): Promise<number> {
  checkTimeRange(query.from, query.to, ctx.precision)
  const rows = await ctx.catalog.resolve(query.selector, ctx.limits)
  if (rows.length === 0) return 0
  const { max } = timeRange(ctx.precision)
  const ids = rows.map((r) => r.id)
  const from = toTimestamptz(Math.max(0, query.from), ctx.precision)
  const to = toTimestamptz(Math.min(query.to, max), ctx.precision)
  return ctx.db.transaction(async (client) => {
    await client.query(createScratchTables)
    await lockSeries(client, ctx.db.schema, ids)
    const result = await client.query(
      `DELETE FROM points WHERE series_id = ANY($1::bigint[])
       AND ts >= $2::timestamptz AND ts < $3::timestamptz`,
      [ids, from, to],
    )
    const deleted = result.rowCount ?? 0
    if (deleted > 0) await deleteRollupRange(client, ids, from, to)
    return deleted
  })
}
