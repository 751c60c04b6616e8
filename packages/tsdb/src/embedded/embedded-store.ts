import { readdirSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { TsdbError } from '../errors.js'
import { checkTimeRange, defaultQueryLimits } from '../model/limits.js'
import {
  batchesFromPoints,
  unitsPerMs,
  type Precision,
  type SeriesBatch,
  type WriteOptions,
  type WritePoint,
  type WriteResult,
} from '../model/points.js'
import { defaultLateWindowMs, defaultMaxFutureMs } from '../model/prepare-write.js'
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
import { checkRetentionRule } from '../model/retention.js'
import type { TimeSeriesStore } from '../store.js'
import { aggregate } from './aggregate.js'
import type { Catalogue } from './catalogue.js'
import { deleteFromChunks, expiredRanges } from './chunk-rewrites.js'
import { Compaction, type CompactionResult } from './compaction.js'
import type { EmbeddedStoreOptions } from './embedded-options.js'
import { EncodePool } from './encode-pool.js'
import { HeadSealing } from './head-sealing.js'
import { latestValues, readPage } from './read-path.js'
import { SeriesReader } from './reader.js'
import { rollupWidths } from './rollups.js'
import type { SeriesIndex } from './series-index.js'
import { inBackground, type StoreParts } from './store-parts.js'
import type { WriteAheadLog } from './wal.js'
import { WritePath } from './write-path.js'

const DAY_MS = 86_400_000

/**
 * The embedded engine: a write-ahead log, an in-memory head, compressed chunks in a catalogue.
 * Its paths live in modules of their own: `write-path.ts`, `read-path.ts`, `head-sealing.ts`
 * (checkpoints and background seals), `compaction.ts`, `chunk-rewrites.ts` (deletes, retention)
 * and `open-embedded-store.ts` (open and recover).
 */
export class EmbeddedStore implements TimeSeriesStore {
  readonly precision: Precision
  /** Bytes of a torn last log record cut off when the store opened (a crash mid-write). */
  readonly tornBytesAtOpen: number
  readonly #parts: StoreParts
  readonly #unlock: () => void
  readonly #timers: NodeJS.Timeout[] = []
  readonly #sealing: HeadSealing
  readonly #compaction: Compaction
  readonly #writePath: WritePath
  #closed = false

  constructor(
    dir: string,
    options: EmbeddedStoreOptions & { precision: Precision },
    opened: {
      catalogue: Catalogue
      index: SeriesIndex
      wal: WriteAheadLog
      unlock: () => void
      headPoints: number
      tornBytes: number
    },
  ) {
    this.precision = options.precision
    this.#unlock = opened.unlock
    this.tornBytesAtOpen = opened.tornBytes
    const perMs = unitsPerMs(this.precision)
    this.#parts = {
      dir,
      precision: this.precision,
      catalogue: opened.catalogue,
      index: opened.index,
      wal: opened.wal,
      reader: new SeriesReader(opened.catalogue, options.cacheBytes ?? 64 * 1024 * 1024),
      encoder: new EncodePool(options.encodeThreads ?? Math.max(0, availableParallelism() - 1)),
      layout: {
        window: DAY_MS * perMs,
        maxPoints: options.chunkMaxPoints ?? 16_384,
        rollupWidths: rollupWidths(this.precision),
      },
      limits: { ...defaultQueryLimits, ...options.limits },
      now: options.now ?? Date.now,
      isClosed: () => this.#closed,
      onBackgroundError:
        options.onBackgroundError ??
        ((err) => {
          process.emitWarning(err instanceof Error ? err.message : String(err), 'StrataTsdbWarning')
        }),
    }
    this.#sealing = new HeadSealing(
      this.#parts,
      {
        headMaxPoints: options.headMaxPoints ?? 8_000_000,
        walMaxBytes: options.walMaxBytes ?? 256 * 1024 * 1024,
        compactAfterMs: options.compactAfterMs ?? 3_600_000,
      },
      opened.headPoints,
      () => this.#compaction.compact(false),
    )
    this.#compaction = new Compaction(this.#parts, this.#sealing)
    this.#writePath = new WritePath(this.#parts, this.#sealing, {
      lateWindowMs: options.lateWindowMs ?? defaultLateWindowMs,
      maxFutureMs: options.maxFutureMs ?? defaultMaxFutureMs,
    })
    const every = options.checkpointIntervalMs ?? 600_000
    this.#timers.push(setInterval(() => this.#sealing.relieveIfSealable(), every).unref())
    const retention = options.retentionIntervalMs ?? 3_600_000
    if (retention > 0) {
      this.#timers.push(
        setInterval(() => void inBackground(this.#parts, this.applyRetention()), retention).unref(),
      )
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new TsdbError('TSDB_CLOSED', 'the store is closed')
  }

  async write(batches: readonly SeriesBatch[], options: WriteOptions = {}): Promise<WriteResult> {
    this.#checkOpen()
    return this.#writePath.write(batches, options)
  }

  writePoints(points: readonly WritePoint[], options?: WriteOptions): Promise<WriteResult> {
    return this.write(batchesFromPoints(points), options)
  }

  /** Seals every unsealed point into chunks and starts a fresh log. */
  checkpoint(): Promise<void> {
    return this.#sealing.checkpoint()
  }

  /**
   * Joins the chunks of day windows that hold more chunks than their points need (checkpoints
   * leave one small chunk per series each). By default only windows that ended `compactAfterMs`
   * ago or hold 8 chunks; `all` joins every one (before measuring, or a backup). Works in slices
   * so writes go on in between.
   */
  async compact(options: { all?: boolean } = {}): Promise<CompactionResult> {
    this.#checkOpen()
    return this.#compaction.compact(options.all === true)
  }

  async series(selector: SeriesSelector): Promise<SeriesInfo[]> {
    this.#checkOpen()
    return Promise.resolve(
      this.#parts.index.match(selector).map((e) => ({ key: e.key, type: e.type })),
    )
  }

  async read(query: RangeQuery): Promise<RangePage> {
    this.#checkOpen()
    return readPage(this.#parts, query)
  }

  async *readAll(query: RangeQuery): AsyncGenerator<SeriesPoints> {
    let cursor = query.cursor ?? null
    do {
      const page = await this.read({ ...query, cursor })
      for (const s of page.series) yield s
      cursor = page.cursor
    } while (cursor !== null)
  }

  async aggregate(query: AggregateQuery): Promise<AggregateResult> {
    this.#checkOpen()
    const { index, catalogue, reader, precision, limits, layout } = this.#parts
    return aggregate(query, {
      index,
      catalogue,
      reader,
      precision,
      limits,
      rollupWidths: layout.rollupWidths,
    })
  }

  async latest(query: LatestQuery): Promise<LatestValue[]> {
    this.#checkOpen()
    return Promise.resolve(latestValues(this.#parts, query))
  }

  async delete(query: DeleteQuery): Promise<{ readonly points: number }> {
    this.#checkOpen()
    checkTimeRange(query.from, query.to, this.precision)
    const matched = this.#parts.index.match(query.selector)
    let points = 0
    await this.#sealing.sealThen(() => {
      points = deleteFromChunks(
        this.#parts,
        matched.map((entry) => ({ entry, from: query.from, to: query.to })),
      )
    })
    return { points }
  }

  async setRetention(
    rule: RetentionRule | { selector: SeriesSelector; maxAge: null },
  ): Promise<void> {
    this.#checkOpen()
    checkRetentionRule(rule)
    this.#parts.catalogue.setRetention(rule.selector, rule.maxAge)
    return Promise.resolve()
  }

  async retentionRules(): Promise<RetentionRule[]> {
    this.#checkOpen()
    return Promise.resolve(this.#parts.catalogue.retentionRules())
  }

  async applyRetention(): Promise<{ readonly points: number }> {
    this.#checkOpen()
    const rules = this.#parts.catalogue.retentionRules()
    if (rules.length === 0) return { points: 0 }
    const ranges = expiredRanges(this.#parts, rules, this.#parts.now() * unitsPerMs(this.precision))
    let points = 0
    await this.#sealing.sealThen(() => {
      points = deleteFromChunks(
        this.#parts,
        ranges.filter((r) => r.to > 0),
      )
    })
    return { points }
  }

  async stats(): Promise<StoreStats> {
    this.#checkOpen()
    const { dir, catalogue, wal, index, encoder } = this.#parts
    const headPoints = this.#sealing.headPoints
    const totals = catalogue.totals()
    const points = totals.points + headPoints
    const catalogueBytes = readdirSync(dir)
      // The -shm file is SQLite's in-memory WAL index, 32 KiB while open, gone when closed.
      .filter((name) => name.startsWith('catalogue.db') && !name.endsWith('-shm'))
      .reduce((n, name) => n + statSync(join(dir, name)).size, 0)
    const walBytes = wal.bytes()
    const bytesOnDisk = catalogueBytes + walBytes
    return Promise.resolve({
      engine: 'embedded',
      series: index.size,
      points,
      bytesOnDisk,
      bytesPerPoint: points === 0 ? 0 : bytesOnDisk / points,
      detail: {
        chunks: totals.chunks,
        quarantinedChunks: catalogue.quarantined(),
        chunkBytes: totals.chunkBytes,
        catalogueBytes,
        walBytes,
        headPoints,
        encodeThreads: encoder.threads,
        pointsEncodedOnThreads: encoder.encoded.workers,
      },
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    for (const timer of this.#timers) clearInterval(timer)
    await this.#sealing.settled()
    await this.#compaction.running?.catch(() => undefined)
    await this.checkpoint()
    this.#closed = true
    await this.#parts.wal.close()
    await this.#parts.encoder.close()
    this.#parts.catalogue.close()
    this.#unlock()
  }
}
