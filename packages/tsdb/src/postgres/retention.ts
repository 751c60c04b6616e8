import type pg from 'pg'
import { timeRange, type Precision } from '../model/points.js'
import type { RetentionRule, SeriesSelector } from '../model/queries.js'
import { checkRetentionRule, retentionFor, retentionSelectorKey } from '../model/retention.js'
import type { Database } from './database.js'
import { partitionName, partitionWidthMs, type Partitions } from './partitions.js'
import { createScratchTables, deleteRollupRange, lockSeries } from './rollups.js'
import type { SeriesCatalog } from './series-catalog.js'
import { toMicros, toTimestamptz } from './time.js'

export interface RetentionContext {
  readonly db: Database
  readonly catalog: SeriesCatalog
  readonly partitions: Partitions
  readonly precision: Precision
}

interface StoredRule {
  selector: SeriesSelector
  max_age_us: string
}

/** Sets, replaces (same selector) or with `maxAge: null` removes a retention rule. */
export async function setRetention(
  ctx: RetentionContext,
  rule: RetentionRule | { selector: SeriesSelector; maxAge: null },
): Promise<void> {
  checkRetentionRule(rule)
  const key = retentionSelectorKey(rule.selector)
  if (rule.maxAge === null) {
    await ctx.db.query('DELETE FROM retention WHERE selector_key = $1', [key])
    return
  }
  await ctx.db.query(
    `INSERT INTO retention (selector_key, selector, max_age_us) VALUES ($1, $2, $3)
     ON CONFLICT (selector_key) DO UPDATE SET selector = EXCLUDED.selector, max_age_us = EXCLUDED.max_age_us`,
    [key, JSON.stringify(rule.selector), toMicros(rule.maxAge, ctx.precision)],
  )
}

/** Every rule, ordered by selector. */
export async function retentionRules(ctx: RetentionContext): Promise<RetentionRule[]> {
  const rows = await ctx.db.query<StoredRule>(
    'SELECT selector, max_age_us FROM retention ORDER BY selector_key',
  )
  const perUnit = ctx.precision === 'ms' ? 1000 : 1
  return rows.map((r) => ({ selector: r.selector, maxAge: Number(r.max_age_us) / perUnit }))
}

/**
 * Drops points past their retention, in one transaction under the series' locks: a partition
 * whose every series is past its rule for the whole day is dropped (with its rollup rows);
 * elsewhere points are deleted per series and the rollups recomputed at the cut.
 */
export async function applyRetention(ctx: RetentionContext, nowMs: number): Promise<number> {
  const rules = await retentionRules(ctx)
  if (rules.length === 0) return 0
  const series = await ctx.catalog.ofTenants([...new Set(rules.map((r) => r.selector.tenant))])
  const nowUs = toMicros(nowMs, 'ms')
  const cutoffs = new Map<string, number>()
  for (const row of series) {
    const maxAge = retentionFor(rules, row.key)
    if (maxAge !== undefined) cutoffs.set(row.id, nowUs - toMicros(maxAge, ctx.precision))
  }
  if (cutoffs.size === 0) return 0
  const starts = await ctx.partitions.list()
  const dropped: number[] = []
  const points = await ctx.db.transaction(async (client) => {
    await client.query(createScratchTables)
    await lockSeries(client, ctx.db.schema, [...cutoffs.keys()])
    let removed = 0
    const latestCutoff = Math.max(...cutoffs.values())
    for (const start of starts) {
      if ((start + partitionWidthMs) * 1000 > latestCutoff) break
      const count = await dropIfPast(client, start, cutoffs)
      if (count !== undefined) {
        removed += count
        dropped.push(start)
      }
    }
    removed += await deleteBefore(client, cutoffs)
    return removed
  })
  for (const start of dropped) ctx.partitions.dropped(start)
  return points
}

/**
 * Drops the partition starting at `start` (ms) when every series with points in it is past its
 * cutoff for the whole partition; returns the points it held, or undefined when it stays.
 */
async function dropIfPast(
  client: pg.PoolClient,
  start: number,
  cutoffs: ReadonlyMap<string, number>,
): Promise<number | undefined> {
  const name = partitionName(start)
  const endUs = (start + partitionWidthMs) * 1000
  const range = [toTimestamptz(start, 'ms'), toTimestamptz(start + partitionWidthMs, 'ms')]
  // Writers hold this lock while they write; taking it first makes the check below final.
  await client.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`)
  const { rows } = await client.query<{ series_id: string; n: string }>(
    `SELECT series_id, sum(count)::int8 AS n FROM rollup_1h
     WHERE bucket >= $1::timestamptz AND bucket < $2::timestamptz GROUP BY series_id`,
    range,
  )
  if (rows.some((r) => (cutoffs.get(r.series_id) ?? -Infinity) < endUs)) return undefined
  await client.query(`DROP TABLE ${name}`)
  for (const table of ['rollup_5m', 'rollup_1h']) {
    await client.query(
      `DELETE FROM ${table} WHERE bucket >= $1::timestamptz AND bucket < $2::timestamptz`,
      range,
    )
  }
  return rows.reduce((n, r) => n + Number(r.n), 0)
}

/** Deletes, per cutoff, the points of the series before it; returns how many. */
async function deleteBefore(
  client: pg.PoolClient,
  cutoffs: ReadonlyMap<string, number>,
): Promise<number> {
  const byCutoff = new Map<number, string[]>()
  for (const [id, cutoff] of cutoffs) {
    if (cutoff <= 0) continue
    const ids = byCutoff.get(cutoff) ?? []
    ids.push(id)
    byCutoff.set(cutoff, ids)
  }
  const epoch = toTimestamptz(0, 'us')
  let removed = 0
  for (const [cutoff, ids] of byCutoff) {
    const to = toTimestamptz(Math.min(cutoff, timeRange('us').max), 'us')
    const result = await client.query(
      'DELETE FROM points WHERE series_id = ANY($1::bigint[]) AND ts < $2::timestamptz',
      [ids, to],
    )
    removed += result.rowCount ?? 0
    if ((result.rowCount ?? 0) > 0) await deleteRollupRange(client, ids, epoch, to)
  }
  return removed
}
