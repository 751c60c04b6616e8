import type pg from 'pg'
import { epochOrigin } from './time.js'
import { numericSql, splitSumSql } from './values.js'

/**
 * Rollups: count, sum, min and max per series and interval, in `rollup_5m` and `rollup_1h`. They
 * change only inside the transaction that changes the points: the intervals a change touched
 * are listed in the session's `strata_touched` table and recomputed (5-minute ones from the
 * points, hourly ones from the 5-minute ones), so late writes, rewrites and deletes keep them
 * exact. Writers hold the series' advisory locks meanwhile, so two recomputations of one
 * interval never interleave.
 */
export interface Rollup {
  readonly table: 'rollup_5m' | 'rollup_1h'
  readonly widthUs: number
  readonly interval: string
}

export const rollup5m: Rollup = { table: 'rollup_5m', widthUs: 300_000_000, interval: '5 minutes' }
export const rollup1h: Rollup = { table: 'rollup_1h', widthUs: 3_600_000_000, interval: '1 hour' }
/** Widest first: an aggregate uses the widest rollup its bucket is a multiple of. */
export const rollupsWidestFirst: readonly Rollup[] = [rollup1h, rollup5m]

/** Session temp tables of a write: staged points and touched 5-minute intervals. */
export const createScratchTables = `
  CREATE TEMP TABLE IF NOT EXISTS strata_staging
    (series_id bigint, ts timestamptz, f float8, i bigint, b boolean, s text) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS strata_touched
    (series_id bigint, bucket timestamptz) ON COMMIT DELETE ROWS;`

const upsertSet =
  'count = EXCLUDED.count, sum = EXCLUDED.sum, sum_big = EXCLUDED.sum_big, min = EXCLUDED.min, max = EXCLUDED.max'

const touched5m = 'SELECT DISTINCT series_id, bucket FROM pg_temp.strata_touched'
const touched1h = `SELECT DISTINCT series_id, date_bin('1 hour', bucket, ${epochOrigin}) AS bucket FROM pg_temp.strata_touched`

/**
 * Recomputes every interval listed in `strata_touched`. With `mayEmpty` (deletes), intervals
 * left without points lose their row.
 */
export async function refreshRollups(client: pg.PoolClient, mayEmpty: boolean): Promise<void> {
  await client.query(`
    INSERT INTO rollup_5m (series_id, bucket, count, sum, sum_big, min, max)
    SELECT t.series_id, t.bucket, count(*), ${splitSumSql(numericSql('p'))},
      min(${numericSql('p')}), max(${numericSql('p')})
    FROM (${touched5m}) t
    JOIN points p ON p.series_id = t.series_id AND p.ts >= t.bucket AND p.ts < t.bucket + interval '5 minutes'
    GROUP BY t.series_id, t.bucket
    ON CONFLICT (series_id, bucket) DO UPDATE SET ${upsertSet}`)
  if (mayEmpty) {
    await client.query(`
      DELETE FROM rollup_5m r USING (${touched5m}) t
      WHERE r.series_id = t.series_id AND r.bucket = t.bucket AND NOT EXISTS (
        SELECT 1 FROM points p WHERE p.series_id = t.series_id
          AND p.ts >= t.bucket AND p.ts < t.bucket + interval '5 minutes')`)
  }
  await client.query(`
    INSERT INTO rollup_1h (series_id, bucket, count, sum, sum_big, min, max)
    SELECT h.series_id, h.bucket, sum(r.count)::int8, sum(r.sum), sum(r.sum_big), min(r.min), max(r.max)
    FROM (${touched1h}) h
    JOIN rollup_5m r ON r.series_id = h.series_id AND r.bucket >= h.bucket AND r.bucket < h.bucket + interval '1 hour'
    GROUP BY h.series_id, h.bucket
    ON CONFLICT (series_id, bucket) DO UPDATE SET ${upsertSet}`)
  if (mayEmpty) {
    await client.query(`
      DELETE FROM rollup_1h r USING (${touched1h}) h
      WHERE r.series_id = h.series_id AND r.bucket = h.bucket AND NOT EXISTS (
        SELECT 1 FROM rollup_5m f WHERE f.series_id = h.series_id
          AND f.bucket >= h.bucket AND f.bucket < h.bucket + interval '1 hour')`)
  }
}

/**
 * Keeps rollups in step with deleting the points of `ids` in [from, to) (timestamptz text):
 * intervals wholly inside go, the two edge intervals are recomputed.
 */
export async function deleteRollupRange(
  client: pg.PoolClient,
  ids: readonly string[],
  from: string,
  to: string,
): Promise<void> {
  for (const { table, interval } of rollupsWidestFirst) {
    await client.query(
      `DELETE FROM ${table} WHERE series_id = ANY($1::bigint[])
       AND bucket >= $2::timestamptz AND bucket + interval '${interval}' <= $3::timestamptz`,
      [ids, from, to],
    )
  }
  await client.query(
    `INSERT INTO pg_temp.strata_touched (series_id, bucket)
     SELECT id, date_bin('5 minutes', edge, ${epochOrigin})
     FROM unnest($1::bigint[]) id,
          unnest(ARRAY[$2::timestamptz, $3::timestamptz - interval '1 microsecond']) edge`,
    [ids, from, to],
  )
  await refreshRollups(client, true)
}

/**
 * Takes the transaction-scoped advisory locks of some series, in one order (so writers never
 * deadlock), serialising every change to their points and rollups.
 */
export async function lockSeries(
  client: pg.PoolClient,
  schema: string,
  ids: readonly string[],
): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtext($1), k) FROM (
       SELECT DISTINCT (id % 2147483647)::int AS k FROM unnest($2::bigint[]) id ORDER BY k) locks`,
    [`${schema}/series`, ids],
  )
}
