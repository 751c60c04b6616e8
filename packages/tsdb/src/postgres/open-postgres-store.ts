import { defaultQueryLimits } from '../model/limits.js'
import { defaultLateWindowMs, defaultMaxFutureMs } from '../model/prepare-write.js'
import type { TimeSeriesStore } from '../store.js'
import { Database } from './database.js'
import { migrate } from './migrate.js'
import {
  checkSchemaName,
  defaultPoolSize,
  defaultRetentionIntervalMs,
  defaultSchema,
  type PostgresStoreOptions,
} from './options.js'
import { PostgresStore } from './postgres-store.js'

/**
 * Opens the PostgreSQL engine of the time-series store: plain PostgreSQL 15, with points in
 * daily range partitions (BRIN on time, unique (series, time) for idempotent upserts), 5-minute
 * and hourly rollup tables and `date_bin` buckets. Creates the schema and runs the migrations
 * (once, under an advisory lock, however many stores open it at the same time).
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://strata@db/strata' })
 * await store.writePoints([{ series: { tenant: 't', device: 'd', metric: 'temp' }, time: Date.now(), value: 21.5 }])
 * await store.close()
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<TimeSeriesStore> {
  const schema = checkSchemaName(options.schema ?? defaultSchema)
  const db = new Database(options.url, schema, options.poolSize ?? defaultPoolSize)
  try {
    await migrate(db)
  } catch (err) {
    await db.close()
    throw err
  }
  return new PostgresStore(db, {
    precision: options.precision ?? 'ms',
    lateWindowMs: options.lateWindowMs ?? defaultLateWindowMs,
    maxFutureMs: options.maxFutureMs ?? defaultMaxFutureMs,
    limits: { ...defaultQueryLimits, ...options.limits },
    now: options.now ?? Date.now,
    retentionIntervalMs: options.retentionIntervalMs ?? defaultRetentionIntervalMs,
    onBackgroundError:
      options.onBackgroundError ??
      ((err) => process.emitWarning(`strata tsdb retention failed: ${String(err)}`)),
  })
}
