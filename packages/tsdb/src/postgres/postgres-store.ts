import { TsdbError } from '../errors.js'
import { checkTimeRange, pageSizeOf, type QueryLimits } from '../model/limits.js'
import {
  batchesFromPoints,
  timeRange,
  type Precision,
  type SeriesBatch,
  type WriteOptions,
  type WritePoint,
  type WriteResult,
} from '../model/points.js'
import { prepareWrite } from '../model/prepare-write.js'
import type {
  AggregateQuery,
  AggregateResult,
  DeleteQuery,
  LatestQuery,
  LatestValue,
  RangePage,
  RangeQuery,
  RetentionRule,
  SeriesInfo,
  SeriesPoints,
  SeriesSelector,
  StoreStats,
} from '../model/queries.js'
import type { TimeSeriesStore } from '../store.js'
import { aggregate } from './aggregator.js'
import type { Database } from './database.js'
import { Partitions } from './partitions.js'
import { deletePoints, latest } from './point-queries.js'
import { readPage, type PageRequest } from './range-reader.js'
import * as retention from './retention.js'
import { SeriesCatalog } from './series-catalog.js'
import { writeBatches } from './writer.js'

/** What a store needs besides its database, resolved from the options. */
export interface StoreSettings {
  readonly precision: Precision
  readonly lateWindowMs: number
  readonly maxFutureMs: number
  readonly limits: QueryLimits
  readonly now: () => number
  readonly retentionIntervalMs: number
  readonly onBackgroundError: (err: unknown) => void
}

/** The PostgreSQL engine; made by `openPostgresStore`. */
export class PostgresStore implements TimeSeriesStore {
  readonly precision: Precision
  readonly #db: Database
  readonly #settings: StoreSettings
  readonly #catalog: SeriesCatalog
  readonly #partitions: Partitions
  readonly #timer: NodeJS.Timeout | undefined
  #retentionRun: Promise<unknown> = Promise.resolve()
  #closing: Promise<void> | undefined

  constructor(db: Database, settings: StoreSettings) {
    this.precision = settings.precision
    this.#db = db
    this.#settings = settings
    this.#catalog = new SeriesCatalog(db)
    this.#partitions = new Partitions(db)
    if (settings.retentionIntervalMs > 0) {
      this.#timer = setInterval(() => {
        this.#retentionRun = this.applyRetention().catch(settings.onBackgroundError)
      }, settings.retentionIntervalMs)
      this.#timer.unref()
    }
  }

  async write(batches: readonly SeriesBatch[], options: WriteOptions = {}): Promise<WriteResult> {
    this.#checkOpen()
    const prepared = prepareWrite(batches, {
      precision: this.precision,
      lateWindowMs: this.#settings.lateWindowMs,
      maxFutureMs: this.#settings.maxFutureMs,
      nowMs: this.#settings.now(),
      backfill: options.backfill === true,
    })
    if (prepared.length > 0) await writeBatches(this.#context(), prepared)
    return {
      points: prepared.reduce((n, b) => n + b.times.length, 0),
      series: prepared.length,
    }
  }

  writePoints(points: readonly WritePoint[], options?: WriteOptions): Promise<WriteResult> {
    return this.write(batchesFromPoints(points), options)
  }

  async series(selector: SeriesSelector): Promise<SeriesInfo[]> {
    this.#checkOpen()
    const rows = await this.#catalog.resolve(selector, this.#settings.limits)
    return rows.map((r) => ({ key: r.key, type: r.type }))
  }

  async read(query: RangeQuery): Promise<RangePage> {
    return readPage(this.#db, this.precision, await this.#pageRequest(query))
  }

  async *readAll(query: RangeQuery): AsyncGenerator<SeriesPoints> {
    let request = await this.#pageRequest(query)
    for (;;) {
      this.#checkOpen()
      const page = await readPage(this.#db, this.precision, request)
      yield* page.series
      if (page.cursor === null) return
      request = { ...request, cursor: page.cursor }
    }
  }

  async aggregate(query: AggregateQuery): Promise<AggregateResult> {
    this.#checkOpen()
    return aggregate(this.#context(), { ...query, to: this.#clampTo(query.from, query.to) })
  }

  async latest(query: LatestQuery): Promise<LatestValue[]> {
    this.#checkOpen()
    return latest(this.#context(), query)
  }

  async delete(query: DeleteQuery): Promise<{ readonly points: number }> {
    this.#checkOpen()
    return { points: await deletePoints(this.#context(), query) }
  }

  async setRetention(
    rule: RetentionRule | { selector: SeriesSelector; maxAge: null },
  ): Promise<void> {
    this.#checkOpen()
    await retention.setRetention(this.#context(), rule)
  }

  async retentionRules(): Promise<RetentionRule[]> {
    this.#checkOpen()
    return retention.retentionRules(this.#context())
  }

  async applyRetention(): Promise<{ readonly points: number }> {
    this.#checkOpen()
    return { points: await retention.applyRetention(this.#context(), this.#settings.now()) }
  }

  async stats(): Promise<StoreStats> {
    this.#checkOpen()
    const [row] = await this.#db.query<Record<string, string>>(
      `SELECT
         (SELECT count(*) FROM series) AS series,
         (SELECT coalesce(sum(count), 0) FROM rollup_1h) AS points,
         (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
          WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'm')) AS bytes,
         (SELECT count(*) FROM pg_inherits WHERE inhparent = 'points'::regclass) AS partitions,
         (SELECT count(*) FROM rollup_5m) AS rollup_5m_rows,
         (SELECT count(*) FROM rollup_1h) AS rollup_1h_rows`,
      [this.#db.schema],
    )
    const n = (name: string) => Number(row?.[name] ?? 0)
    return {
      engine: 'postgres',
      series: n('series'),
      points: n('points'),
      bytesOnDisk: n('bytes'),
      bytesPerPoint: n('points') === 0 ? 0 : n('bytes') / n('points'),
      detail: {
        partitions: n('partitions'),
        rollup5mRows: n('rollup_5m_rows'),
        rollup1hRows: n('rollup_1h_rows'),
      },
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer)
      await this.#retentionRun
      await this.#db.close()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #context() {
    return {
      db: this.#db,
      catalog: this.#catalog,
      partitions: this.#partitions,
      precision: this.precision,
      limits: this.#settings.limits,
    }
  }

  async #pageRequest(query: RangeQuery): Promise<PageRequest> {
    this.#checkOpen()
    checkTimeRange(query.from, query.to, this.precision)
    const limit = pageSizeOf(query, this.#settings.limits)
    const series = await this.#catalog.resolve(query.selector, this.#settings.limits, query.signal)
    return {
      series,
      from: Math.max(0, query.from),
      to: this.#clampTo(query.from, query.to),
      limit,
      cursor: query.cursor ?? null,
      signal: query.signal,
    }
  }

  /** `to` within the storable range (queries may name any later end). */
  #clampTo(from: number, to: number): number {
    return Number.isSafeInteger(from) ? Math.min(to, timeRange(this.precision).max) : to
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) {
      throw new TsdbError('TSDB_CLOSED', 'the store is closed', {
        hint: 'Open the store again to use it.',
      })
    }
  }
}
