import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { TsdbError } from '../errors.js'
import { unitsPerMs, type Precision } from '../model/points.js'
import type { PreparedBatch } from '../model/prepare-write.js'
import type { Database } from './database.js'
import { partitionStart, type Partitions } from './partitions.js'
import { createScratchTables, lockSeries, refreshRollups } from './rollups.js'
import type { SeriesCatalog } from './series-catalog.js'
import { epochOrigin, toTimestamptz } from './time.js'
import { copyColumns } from './values.js'

/** SQLSTATE of "no partition of relation found for row" (another store dropped one). */
const checkViolation = '23514'

/** Characters of COPY text handed to the socket at a time. */
const copyChunkChars = 1 << 16

export interface WriterContext {
  readonly db: Database
  readonly catalog: SeriesCatalog
  readonly partitions: Partitions
  readonly precision: Precision
}

/**
 * Stores prepared batches in one transaction: registers their series, takes the series' locks,
 * COPYs the points into a session staging table, upserts them into `points` (a rewrite
 * replaces) and recomputes the rollup intervals they touched. Resolves after COMMIT.
 */
export async function writeBatches(
  ctx: WriterContext,
  batches: readonly PreparedBatch[],
): Promise<void> {
  const deduped = batches.map(keepLastPerTime)
  await ctx.partitions.ensure(partitionStarts(deduped, ctx.precision))
  try {
    await writeOnce(ctx, deduped)
  } catch (err) {
    if (!(err instanceof TsdbError) || err.details['sqlstate'] !== checkViolation) throw err
    // A partition this store thought existed was dropped by retention elsewhere: look again.
    ctx.partitions.forget()
    await ctx.partitions.ensure(partitionStarts(deduped, ctx.precision))
    await writeOnce(ctx, deduped)
  }
}

async function writeOnce(ctx: WriterContext, batches: readonly PreparedBatch[]): Promise<void> {
  const ids = await ctx.db.transaction(async (client) => {
    await client.query(createScratchTables)
    const ids = await ctx.catalog.register(client, batches)
    await lockSeries(client, ctx.db.schema, [...ids.values()])
    await pipeline(
      Readable.from(copyText(batches, ids, ctx.precision)),
      client.query(copyFrom('COPY pg_temp.strata_staging (series_id, ts, f, i, b, s) FROM STDIN')),
    )
    await client.query(
      `INSERT INTO points (series_id, ts, f, i, b, s)
       SELECT series_id, ts, f, i, b, s FROM pg_temp.strata_staging
       ON CONFLICT (series_id, ts) DO UPDATE SET f = EXCLUDED.f, i = EXCLUDED.i, b = EXCLUDED.b, s = EXCLUDED.s`,
    )
    await client.query(
      `INSERT INTO pg_temp.strata_touched (series_id, bucket)
       SELECT DISTINCT series_id, date_bin('5 minutes', ts, ${epochOrigin}) FROM pg_temp.strata_staging`,
    )
    await refreshRollups(client, false)
    return ids
  })
  ctx.catalog.remember(batches, ids)
}

/** COPY text rows (`series_id \t ts \t f \t i \t b \t s`), in chunks. */
function* copyText(
  batches: readonly PreparedBatch[],
  ids: ReadonlyMap<string, string>,
  precision: Precision,
): Generator<string> {
  let chunk = ''
  for (const batch of batches) {
    const id = ids.get(batch.canonical) as string
    for (let k = 0; k < batch.times.length; k++) {
      const ts = toTimestamptz(batch.times[k] as number, precision)
      chunk += `${id}\t${ts}\t${copyColumns(batch.values[k] as PreparedBatch['values'][number])}\n`
      if (chunk.length >= copyChunkChars) {
        yield chunk
        chunk = ''
      }
    }
  }
  if (chunk !== '') yield chunk
}

/** A batch with one point per timestamp, the last written winning (an upsert takes one). */
function keepLastPerTime(batch: PreparedBatch): PreparedBatch {
  const { times } = batch
  let increasing = true
  for (let k = 1; k < times.length && increasing; k++) {
    increasing = (times[k] as number) > (times[k - 1] as number)
  }
  if (increasing) return batch
  const last = new Map<number, number>()
  times.forEach((t, k) => last.set(t, k))
  const keep = [...last.values()]
  return {
    ...batch,
    times: keep.map((k) => times[k] as number),
    values: keep.map((k) => batch.values[k] as PreparedBatch['values'][number]),
  }
}

/** The starts (ms) of the partitions a write lands in. */
function* partitionStarts(
  batches: readonly PreparedBatch[],
  precision: Precision,
): Generator<number> {
  const perMs = unitsPerMs(precision)
  let previous = -1
  for (const batch of batches) {
    for (const time of batch.times) {
      const start = partitionStart(Math.floor(time / perMs))
      if (start !== previous) yield start
      previous = start
    }
  }
}
