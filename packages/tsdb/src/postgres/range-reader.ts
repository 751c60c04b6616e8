import type pg from 'pg'
import { decodeCursor, encodeCursor } from '../model/cursor.js'
import type { Precision, Value } from '../model/points.js'
import type { RangePage, SeriesPoints } from '../model/queries.js'
import type { Database } from './database.js'
import type { SeriesRow } from './series-catalog.js'
import { epochSql, toTimestamptz } from './time.js'
import { decodeValue, type ValueColumns } from './values.js'

/** One page of a range read over series already resolved (in canonical order). */
export interface PageRequest {
  readonly series: readonly SeriesRow[]
  readonly from: number
  readonly to: number
  readonly limit: number
  readonly cursor: string | null
  readonly signal: AbortSignal | undefined
}

/**
 * Reads one page: series after series from the cursor, each with an index range scan on
 * (series_id, ts) bounded by what the page still has room for, so a page costs its own size
 * whatever the range.
 */
export async function readPage(
  db: Database,
  precision: Precision,
  request: PageRequest,
): Promise<RangePage> {
  const { series, limit } = request
  const cursor = request.cursor === null ? undefined : decodeCursor(request.cursor)
  let index = 0
  if (cursor !== undefined) {
    index = series.findIndex((s) => s.canonical >= cursor.series)
    if (index < 0) return { series: [], cursor: null }
  }
  return db.withClient(async (client) => {
    const out: SeriesPoints[] = []
    let room = limit
    for (; index < series.length; index++) {
      const row = series[index] as SeriesRow
      const from =
        cursor !== undefined && row.canonical === cursor.series ? cursor.after + 1 : request.from
      const points = await readSeries(client, precision, row, from, request.to, room + 1)
      const full = points.times.length > room
      if (full) {
        points.times.length = room
        points.values.length = room
      }
      if (points.times.length > 0) out.push(points)
      room -= points.times.length
      if (full || (room === 0 && index < series.length - 1)) {
        const after = points.times[points.times.length - 1] as number
        return { series: out, cursor: encodeCursor({ series: row.canonical, after }) }
      }
    }
    return { series: out, cursor: null }
  }, request.signal)
}

async function readSeries(
  client: pg.PoolClient,
  precision: Precision,
  row: SeriesRow,
  from: number,
  to: number,
  limit: number,
): Promise<SeriesPoints & { times: number[]; values: Value[] }> {
  const times: number[] = []
  const values: Value[] = []
  if (from < to) {
    const { rows } = await client.query<ValueColumns & { t: string }>(
      `SELECT ${epochSql('ts', precision)} AS t, f, i, b, s FROM points
       WHERE series_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT $4`,
      [row.id, toTimestamptz(from, precision), toTimestamptz(to, precision), limit],
    )
    for (const r of rows) {
      times.push(Number(r.t))
      values.push(decodeValue(r, row.type))
    }
  }
  return { key: row.key, type: row.type, times, values }
}
