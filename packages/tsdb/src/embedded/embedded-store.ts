import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { TsdbError } from '../errors.js'
import {
  checkSeriesCount,
  checkTimeRange,
  defaultQueryLimits,
  pageSizeOf,
  throwIfAborted,
  type QueryLimits,
} from '../model/limits.js'
import {
  batchesFromPoints,
  unitsPerMs,
  type Precision,
  type SeriesBatch,
  type Value,
  type WriteOptions,
  type WritePoint,
  type WriteResult,
} from '../model/points.js'
import {
  defaultLateWindowMs,
  defaultMaxFutureMs,
  describe,
  prepareWrite,
} from '../model/prepare-write.js'
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
import { decodeCursor, encodeCursor } from '../model/cursor.js'
import { checkRetentionRule, retentionFor } from '../model/retention.js'
import type { StoreOptions, TimeSeriesStore } from '../store.js'
import { aggregate } from './aggregate.js'
import { Catalogue, type ChunkRow, type NewChunk } from './catalogue.js'
import { mergeForSeal, planCompaction, planDelete, type ChunkLayout } from './chunk-writer.js'
import type { EncodeJob } from './encode-batch.js'
import { EncodePool } from './encode-pool.js'
import { lockDataFolder } from './data-folder-lock.js'
import { allocValues, type Columns, type SortedPoints } from './head.js'
import { SeriesReader, lowerBound } from './reader.js'
import { rollupWidths } from './rollups.js'
import {
  carriedRecords,
  replayedOverSealed,
  sealEverything,
  sealWholeChunks,
  type HeadSplit,
} from './seal-plan.js'
import { SeriesIndex, updateLatest, type LatestPoint, type SeriesEntry } from './series-index.js'
import { WriteAheadLog } from './wal.js'
import { WholeChunkSealer } from './whole-chunk-sealer.js'
import { encodeWriteRecord, readWriteRecord, type RecordColumns } from './wal-record.js'

/** Options of the embedded engine. */
export interface EmbeddedStoreOptions extends StoreOptions {
  /**
   * Relieve the head once it holds this many points (default 8,000,000: about 128 MiB of typed
   * columns, room for a whole chunk of each of 500 busy series). Such a checkpoint seals windows
   * that have closed and, of open ones, whole chunks only; the rest stays in the head (re-logged
   * at the start of the new log segment) unless that is over half the budget, then the series
   * with the most unsealed points seal them too. Whole chunks are also sealed as they fill, on
   * an encoding thread while writes go on (see `encodeThreads`); what such a seal has taken
   * counts here once it is done.
   */
  readonly headMaxPoints?: number
  /**
   * … or once the log holds this many bytes (default 256 MiB): sealing whole chunks as they
   * fill keeps the head small but not the log, which only a checkpoint starts anew.
   */
  readonly walMaxBytes?: number
  /**
   * … and this often, in ms of wall time (default 10 minutes), when a series holds a whole chunk
   * or points of a window that has closed.
   */
  readonly checkpointIntervalMs?: number
  /** Points per chunk at most (default 16,384). */
  readonly chunkMaxPoints?: number
  /**
   * A day window's chunks are joined once the window ended this long ago (default 1 hour), or
   * earlier once it holds 8 chunks.
   */
  readonly compactAfterMs?: number
  /**
   * Threads that encode chunks beside the caller's (default: one per core but one). A seal
   * shares its encoding between them and the calling thread. They run the compiled encoder
   * (`dist/`); run from source with no build as new as the sources, everything is encoded on
   * the calling thread, byte for byte the same.
   */
  readonly encodeThreads?: number
  /** Memory for decoded chunks and rollups (default 64 MiB). */
  readonly cacheBytes?: number
  /** How often retention runs on its own, in ms (default 1 hour; 0: only when called). */
  readonly retentionIntervalMs?: number
  /**
   * Told about what goes wrong out of a caller's sight: a background checkpoint or retention run
   * that failed, a damaged chunk moved to quarantine (default: a process warning).
   */
  readonly onBackgroundError?: (err: unknown) => void
}

const DAY_MS = 86_400_000
/**
 * Points in the head from which the encoding threads are started: a fresh thread costs some
 * hundreds of ms of CPU (start, warm-up, compiling the encoder), worth it for a store that takes
 * millions of points, not for a small one.
 */
const warmPoolPoints = 2_000_000

/**
 * Opens (creating if needed) the embedded store in `dir`: `catalogue.db` (SQLite: series, chunks,
 * rollups, retention), `wal/` (the write-ahead log) and a `LOCK` file. Replays the log, so
 * every acknowledged write is there.
 */
export async function openEmbeddedStore(
  dir: string,
  options: EmbeddedStoreOptions = {},
): Promise<EmbeddedStore> {
  mkdirSync(dir, { recursive: true })
  const unlock = lockDataFolder(join(dir, 'LOCK'))
  let catalogue: Catalogue | undefined
  let store: EmbeddedStore
  let resealed: boolean
  try {
    const precision = options.precision ?? 'ms'
    catalogue = new Catalogue(join(dir, 'catalogue.db'), precision)
    const index = new SeriesIndex()
    for (const row of catalogue.allSeries()) index.add(row)
    let headPoints = 0
    const { wal, replay } = await WriteAheadLog.open(join(dir, 'wal'), (payload) => {
      for (const s of readWriteRecord(payload)) {
        index.byId(s.seriesId)?.head.append(s.times, s.values)
        headPoints += s.times.length
      }
    })
    store = new EmbeddedStore(
      dir,
      { ...options, precision },
      { catalogue, index, wal, unlock, headPoints, tornBytes: replay.tornBytes },
    )
    resealed = replayedOverSealed(index, catalogue)
  } catch (err) {
    catalogue?.close()
    unlock()
    throw err
  }
  // Background seals leave their points in the log until the next checkpoint: after a crash
  // the replay puts them back into the head beside their chunks. Sealing them now (merged with
  // those chunks) keeps the store from counting a point twice.
  if (resealed) {
    try {
      await store.checkpoint()
    } catch (err) {
      await store.close().catch(() => undefined)
      throw err
    }
  }
  return store
}

/** The embedded engine: a write-ahead log, an in-memory head, compressed chunks in a catalogue. */
export class EmbeddedStore implements TimeSeriesStore {
  readonly precision: Precision
  /** Bytes of a torn last log record cut off when the store opened (a crash mid-write). */
  readonly tornBytesAtOpen: number
  readonly #dir: string
  readonly #catalogue: Catalogue
  readonly #index: SeriesIndex
  readonly #wal: WriteAheadLog
  readonly #reader: SeriesReader
  readonly #encoder: EncodePool
  readonly #unlock: () => void
  readonly #limits: QueryLimits
  readonly #layout: ChunkLayout
  readonly #now: () => number
  readonly #lateWindowMs: number
  readonly #maxFutureMs: number
  readonly #headMaxPoints: number
  readonly #timers: NodeJS.Timeout[] = []
  readonly #onBackgroundError: (err: unknown) => void
  #headPoints: number
  readonly #compactAfterMs: number
  /** A checkpoint that relieves the head, and the compaction after it, under way. */
  #relieving: Promise<void> | undefined
  #compacting: Promise<{ points: number; windows: number }> | undefined
  readonly #sealer: WholeChunkSealer
  /**
   * Log steps (checkpoints, compaction, rewrites) under way. What a background seal took out of
   * the heads is in neither the chunks nor a log segment of its own until it is stored, so a
   * step waits for a background seal to finish, and none starts while a step runs.
   */
  #steps = 0
  readonly #walMaxBytes: number
  #closed = false

  constructor(
    dir: string,
    options: EmbeddedStoreOptions & { precision: Precision },
    parts: {
      catalogue: Catalogue
      index: SeriesIndex
      wal: WriteAheadLog
      unlock: () => void
      headPoints: number
      tornBytes: number
    },
  ) {
    this.precision = options.precision
    this.#dir = dir
    this.#catalogue = parts.catalogue
    this.#index = parts.index
    this.#wal = parts.wal
    this.#unlock = parts.unlock
    this.#headPoints = parts.headPoints
    this.tornBytesAtOpen = parts.tornBytes
    this.#reader = new SeriesReader(parts.catalogue, options.cacheBytes ?? 64 * 1024 * 1024)
    this.#encoder = new EncodePool(options.encodeThreads ?? Math.max(0, availableParallelism() - 1))
    this.#limits = { ...defaultQueryLimits, ...options.limits }
    const perMs = unitsPerMs(this.precision)
    this.#layout = {
      window: DAY_MS * perMs,
      maxPoints: options.chunkMaxPoints ?? 16_384,
      rollupWidths: rollupWidths(this.precision),
    }
    this.#sealer = new WholeChunkSealer({
      index: this.#index,
      catalogue: this.#catalogue,
      encoder: this.#encoder,
      layout: this.#layout,
      decode: (entry, chunk) => this.#decodeOrQuarantine(entry, chunk),
      inBackground: (work) => this.#inBackground(work),
      sealed: () => this.#countHead(),
    })
    this.#now = options.now ?? Date.now
    this.#lateWindowMs = options.lateWindowMs ?? defaultLateWindowMs
    this.#maxFutureMs = options.maxFutureMs ?? defaultMaxFutureMs
    this.#headMaxPoints = options.headMaxPoints ?? 8_000_000
    this.#walMaxBytes = options.walMaxBytes ?? 256 * 1024 * 1024
    this.#onBackgroundError =
      options.onBackgroundError ??
      ((err) => {
        process.emitWarning(err instanceof Error ? err.message : String(err), 'StrataTsdbWarning')
      })
    this.#compactAfterMs = options.compactAfterMs ?? 3_600_000
    const every = options.checkpointIntervalMs ?? 600_000
    this.#timers.push(
      setInterval(() => {
        if (this.#relieving === undefined && this.#hasSealable()) this.#relieve()
      }, every).unref(),
    )
    const retention = options.retentionIntervalMs ?? 3_600_000
    if (retention > 0) {
      this.#timers.push(
        setInterval(() => void this.#inBackground(this.applyRetention()), retention).unref(),
      )
    }
  }

  async #inBackground(work: Promise<unknown>): Promise<void> {
    try {
      await work
    } catch (err) {
      if (!this.#closed) this.#onBackgroundError(err)
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new TsdbError('TSDB_CLOSED', 'the store is closed')
  }

  async write(batches: readonly SeriesBatch[], options: WriteOptions = {}): Promise<WriteResult> {
    this.#checkOpen()
    const prepared = prepareWrite(
      batches,
      {
        precision: this.precision,
        lateWindowMs: this.#lateWindowMs,
        maxFutureMs: this.#maxFutureMs,
        nowMs: this.#now(),
        backfill: options.backfill === true,
      },
      false,
    )
    const fresh = prepared.filter((p) => {
      const existing = this.#index.byCanonical(p.canonical)
      if (existing !== undefined && existing.type !== p.type) {
        throw new TsdbError(
          'TSDB_TYPE_MISMATCH',
          `${describe(p.key)} holds ${existing.type} values, not ${p.type}`,
          {
            hint: 'A series keeps the type of its first point; write other types under another metric name.',
          },
        )
      }
      return existing === undefined
    })
    if (fresh.length > 0) {
      const ids = this.#catalogue.addSeries(fresh)
      fresh.forEach((p, i) =>
        this.#index.add({ id: ids[i] as number, key: p.key, canonical: p.canonical, type: p.type }),
      )
    }
    const logged = prepared.map((p) => {
      const entry = this.#index.byCanonical(p.canonical) as SeriesEntry
      return { seriesId: entry.id, type: entry.type, times: p.times, values: p.values }
    })
    // The points are applied from the record (numbers as typed views, copied in bulk into the
    // head); strings from a copy of the caller's arrays, which are not ours after this call.
    const record = encodeWriteRecord(logged)
    const strings = logged.map((l) =>
      l.type === 'string' ? (l.values.slice() as string[]) : undefined,
    )
    let points = 0
    await this.#wal.append(record, () => {
      const columns = readWriteRecord(record)
      for (let i = 0; i < columns.length; i++) {
        const { seriesId, times, values } = columns[i] as RecordColumns
        const entry = this.#index.byId(seriesId) as SeriesEntry
        const column = strings[i] ?? values
        entry.head.append(times, column)
        points += times.length
        this.#sealer.appended(entry, times.length)
        updateLatest(entry, times, column)
      }
      this.#headPoints += points
    })
    // A head this big will be sealed: start the encoding threads before they are needed.
    if (this.#headPoints >= warmPoolPoints) this.#encoder.warm()
    if (this.#relieving === undefined) {
      // Points a background seal took leave the head soon: they count once it is done.
      const live = this.#headPoints - this.#sealer.takenPoints
      if (live >= this.#headMaxPoints || this.#wal.liveBytes >= this.#walMaxBytes) this.#relieve()
      else if (this.#sealer.due && this.#steps === 0) this.#sealer.start(this.#closedBefore())
    }
    return { points, series: prepared.length }
  }

  writePoints(points: readonly WritePoint[], options?: WriteOptions): Promise<WriteResult> {
    return this.write(batchesFromPoints(points), options)
  }

  /** Seals every unsealed point into chunks and starts a fresh log. */
  checkpoint(): Promise<void> {
    return this.#seal(true, undefined)
  }

  /** A log step's work, run once a background seal in flight has stored its chunks. */
  #step<T>(run: () => Promise<T> | T): () => Promise<T> {
    return async () => {
      while (this.#sealer.running !== undefined) await this.#sealer.running
      this.#steps++
      try {
        return await run()
      } finally {
        this.#steps--
      }
    }
  }

  /**
   * A full checkpoint whose `then` runs in the same exclusive step, on the sealed chunks, with
   * nothing unsealed left (deletes and retention rewrite chunks this way).
   */
  #sealThen(then: () => void): Promise<void> {
    return this.#seal(true, then)
  }

  /**
   * Seals the head into chunks in one transaction, in log order, and starts a new log segment.
   * `full` seals every point; otherwise only what relieves the head (see `headMaxPoints`), and
   * the points left in the head start the new segment as one record.
   */
  #seal(full: boolean, then: (() => void) | undefined): Promise<void> {
    return this.#wal.checkpoint(
      this.#step(async () => {
        const closedBefore = this.#closedBefore()
        const splits: { entry: SeriesEntry; split: HeadSplit }[] = []
        this.#sealer.reset()
        for (const entry of this.#index.all()) {
          if (entry.head.size === 0) continue
          const points = entry.head.live()
          const split = full
            ? sealEverything(points, this.#layout)
            : sealWholeChunks(entry.type, points, this.#layout, closedBefore)
          splits.push({ entry, split })
        }
        if (!full) this.#sealLargest(splits)
        const remove: number[] = []
        const jobs: EncodeJob[] = []
        const carried: { entry: SeriesEntry; keep: Columns }[] = []
        for (const { entry, split } of splits) {
          for (const part of split.seal) {
            const merged = mergeForSeal(this.#catalogue, entry.id, entry.type, part, (c) =>
              this.#decodeOrQuarantine(entry, c),
            )
            remove.push(...merged.remove)
            jobs.push({ seriesId: entry.id, type: entry.type, ...merged.points })
          }
          if (split.keep.times.length > 0) carried.push({ entry, keep: split.keep })
        }
        const carry = carriedRecords(
          carried.map(({ entry, keep }) => ({ seriesId: entry.id, type: entry.type, keep })),
        )
        // Appends wait while the chunks are encoded (the heads stay as they are until then).
        const add = await this.#encoder.encode(jobs, this.#layout, true)
        this.#catalogue.replaceChunks(remove, add)
        for (const { entry, split } of splits) entry.head.replace(split.keep)
        this.#countHead()
        then?.()
        this.#catalogue.checkpoint()
        return carry
      }),
    )
  }

  /** Windows that ended before this are closed: sealed whole, joined by compaction. */
  #closedBefore(): number {
    return (this.#now() - this.#compactAfterMs) * unitsPerMs(this.precision)
  }

  #countHead(): void {
    let n = 0
    for (const entry of this.#index.all()) n += entry.head.size
    this.#headPoints = n
  }

  /** Seals everything of the series that keep the most points until half the budget is left. */
  #sealLargest(splits: { entry: SeriesEntry; split: HeadSplit }[]): void {
    let kept = splits.reduce((n, s) => n + s.split.keep.times.length, 0)
    const budget = this.#headMaxPoints / 2
    if (kept <= budget) return
    const byKept = [...splits].sort((a, b) => b.split.keep.times.length - a.split.keep.times.length)
    for (const s of byKept) {
      if (kept <= budget) break
      kept -= s.split.keep.times.length
      s.split = sealEverything(s.entry.head.live(), this.#layout)
    }
  }

  /**
   * A chunk's points for rewriting it; a damaged chunk is moved to the quarantine table (kept,
   * reported, out of the way) so that sealing and deletes go on for everything else.
   */
  #decodeOrQuarantine(entry: SeriesEntry, chunk: ChunkRow): SortedPoints {
    return this.#orQuarantine(entry, chunk, () => this.#reader.chunkPoints(entry, chunk), {
      times: [],
      values: [],
    })
  }

  /** The same as columns, not cached (compaction reads each chunk once). */
  #columnsOrQuarantine(entry: SeriesEntry, chunk: ChunkRow): Columns {
    return this.#orQuarantine(entry, chunk, () => this.#reader.chunkColumns(entry, chunk), {
      times: new Float64Array(0),
      values: allocValues(entry.type, 0),
    })
  }

  #orQuarantine<T>(entry: SeriesEntry, chunk: ChunkRow, decode: () => T, empty: T): T {
    try {
      return decode()
    } catch (err) {
      if (!(err instanceof TsdbError) || err.code !== 'TSDB_CHUNK_CORRUPT') throw err
      this.#catalogue.quarantine(chunk.id, err.message)
      this.#onBackgroundError(err)
      return empty
    }
  }

  /** Starts a checkpoint that relieves the head, then compaction, in the background. */
  #relieve(): void {
    const work = async (): Promise<void> => {
      await this.#seal(false, undefined)
      await this.compact()
    }
    this.#relieving = this.#inBackground(work()).finally(() => {
      this.#relieving = undefined
    })
  }

  /**
   * Whether a relieving checkpoint would seal anything: a series holds a whole chunk, or points
   * of a window that has closed (else it would only copy the head into a new log segment).
   */
  #hasSealable(): boolean {
    const closedBefore = this.#closedBefore()
    const { window, maxPoints } = this.#layout
    for (const entry of this.#index.all()) {
      if (entry.head.liveSize === 0) continue
      if (entry.head.liveSize >= maxPoints) return true
      const first = entry.head.live().times[0] as number
      if ((Math.floor(first / window) + 1) * window <= closedBefore) return true
    }
    return false
  }

  /**
   * Joins the chunks of day windows that hold more chunks than their points need (checkpoints
   * leave one small chunk per series each). By default only windows that ended `compactAfterMs`
   * ago or hold 8 chunks; `all` joins every one (before measuring, or a backup). Works in slices
   * so writes go on in between.
   */
  async compact(options: { all?: boolean } = {}): Promise<{ points: number; windows: number }> {
    this.#checkOpen()
    while (this.#compacting !== undefined) await this.#compacting.catch(() => undefined)
    const run = this.#compact(options.all === true).finally(() => {
      this.#compacting = undefined
    })
    this.#compacting = run
    return run
  }

  async #compact(all: boolean): Promise<{ points: number; windows: number }> {
    const { window, maxPoints } = this.#layout
    const closedBefore = this.#closedBefore()
    const windows = this.#catalogue
      .fragmentedWindows(window, maxPoints)
      .map((w) => ({ ...w, closed: all || w.windowStart + window <= closedBefore }))
      .filter((w) => w.closed || w.parts >= 8)
    let points = 0
    for (let i = 0; i < windows.length && !this.#closed;) {
      const slice: typeof windows = []
      for (let size = 0; i < windows.length && size < 200_000; i++) {
        const w = windows[i] as (typeof windows)[number]
        slice.push(w)
        size += w.points
      }
      await this.#wal.exclusive(
        this.#step(async () => {
          const remove: number[] = []
          const jobs: EncodeJob[] = []
          for (const w of slice) {
            const entry = this.#index.byId(w.seriesId)
            if (entry === undefined) continue
            const plan = planCompaction(
              this.#catalogue,
              entry.id,
              entry.type,
              w.windowStart,
              w.closed,
              this.#layout,
              (c) => this.#columnsOrQuarantine(entry, c),
            )
            remove.push(...plan.remove)
            for (const joined of plan.joined)
              jobs.push({ seriesId: entry.id, type: entry.type, ...joined })
            points += plan.points
          }
          this.#catalogue.replaceChunks(
            remove,
            await this.#encoder.encode(jobs, this.#layout, true),
          )
        }),
      )
    }
    if (windows.length > 0 && !this.#closed) {
      // Give the freed pages back and fold SQLite's log into the file.
      await this.#wal.exclusive(
        this.#step(() => {
          this.#catalogue.checkpoint()
        }),
      )
    }
    return { points, windows: windows.length }
  }

  async series(selector: SeriesSelector): Promise<SeriesInfo[]> {
    this.#checkOpen()
    return Promise.resolve(this.#index.match(selector).map((e) => ({ key: e.key, type: e.type })))
  }

  async read(query: RangeQuery): Promise<RangePage> {
    this.#checkOpen()
    checkTimeRange(query.from, query.to, this.precision)
    const limit = pageSizeOf(query, this.#limits)
    const cursor =
      query.cursor === undefined || query.cursor === null ? undefined : decodeCursor(query.cursor)
    const matched = this.#index.match(query.selector)
    checkSeriesCount(matched.length, this.#limits)
    throwIfAborted(query.signal)
    const page: SeriesPoints[] = []
    let left = limit
    for (const entry of matched) {
      if (cursor !== undefined && entry.canonical < cursor.series) continue
      const from =
        cursor !== undefined && entry.canonical === cursor.series
          ? Math.max(query.from, cursor.after + 1)
          : query.from
      if (from >= query.to) continue
      const points = this.#reader.points(entry, from, query.to, left + 1)
      if (points.times.length === 0) continue
      const more = points.times.length > left
      const taken = more
        ? { times: points.times.slice(0, left), values: points.values.slice(0, left) }
        : points
      if (taken.times.length > 0)
        page.push({ key: entry.key, type: entry.type, times: taken.times, values: taken.values })
      left -= taken.times.length
      if (more || left === 0) {
        const last = taken.times.at(-1) ?? from - 1
        return { series: page, cursor: encodeCursor({ series: entry.canonical, after: last }) }
      }
      await Promise.resolve()
      throwIfAborted(query.signal)
    }
    return { series: page, cursor: null }
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
    return aggregate(query, {
      index: this.#index,
      catalogue: this.#catalogue,
      reader: this.#reader,
      precision: this.precision,
      limits: this.#limits,
      rollupWidths: this.#layout.rollupWidths,
    })
  }

  async latest(query: LatestQuery): Promise<LatestValue[]> {
    this.#checkOpen()
    const matched = this.#index.match(query.selector)
    checkSeriesCount(matched.length, this.#limits)
    const out: LatestValue[] = []
    for (const entry of matched) {
      const point =
        query.before === undefined ? this.#latestOf(entry) : this.#latestBefore(entry, query.before)
      if (point !== null)
        out.push({ key: entry.key, type: entry.type, time: point.time, value: point.value })
    }
    return Promise.resolve(out)
  }

  #latestOf(entry: SeriesEntry): LatestPoint | null {
    if (entry.latest === undefined)
      entry.latest = this.#latestBefore(entry, Number.MAX_SAFE_INTEGER)
    return entry.latest
  }

  #latestBefore(entry: SeriesEntry, before: number): LatestPoint | null {
    const head = entry.head.points()
    const h = lowerBound(head.times, before) - 1
    let best = h >= 0 ? { time: head.times[h] as number, value: head.values[h] as Value } : null
    const chunk = this.#catalogue.lastChunkBefore(entry.id, before)
    if (chunk !== undefined && (best === null || chunk.maxTime > best.time)) {
      const points = this.#reader.chunkPoints(entry, chunk)
      const c = lowerBound(points.times, before) - 1
      const t = points.times[c]
      if (t !== undefined && (best === null || t > best.time))
        best = { time: t, value: points.values[c] as Value }
    }
    return best
  }

  async delete(query: DeleteQuery): Promise<{ readonly points: number }> {
    this.#checkOpen()
    checkTimeRange(query.from, query.to, this.precision)
    const matched = this.#index.match(query.selector)
    let points = 0
    await this.#sealThen(() => {
      points = this.#rewrite(matched.map((entry) => ({ entry, from: query.from, to: query.to })))
    })
    return { points }
  }

  /** Deletes ranges from sealed chunks in one transaction; returns the points removed. */
  #rewrite(ranges: readonly { entry: SeriesEntry; from: number; to: number }[]): number {
    const remove: number[] = []
    const add: NewChunk[] = []
    let points = 0
    for (const { entry, from, to } of ranges) {
      const plan = planDelete(
        this.#catalogue,
        entry.id,
        entry.type,
        from,
        to,
        this.#layout,
        (c: ChunkRow) => this.#decodeOrQuarantine(entry, c),
      )
      if (plan.remove.length === 0) continue
      remove.push(...plan.remove)
      add.push(...plan.add)
      points += plan.points
      entry.latest = undefined
    }
    this.#catalogue.replaceChunks(remove, add)
    return points
  }

  async setRetention(
    rule: RetentionRule | { selector: SeriesSelector; maxAge: null },
  ): Promise<void> {
    this.#checkOpen()
    checkRetentionRule(rule)
    this.#catalogue.setRetention(rule.selector, rule.maxAge)
    return Promise.resolve()
  }

  async retentionRules(): Promise<RetentionRule[]> {
    this.#checkOpen()
    return Promise.resolve(this.#catalogue.retentionRules())
  }

  async applyRetention(): Promise<{ readonly points: number }> {
    this.#checkOpen()
    const rules = this.#catalogue.retentionRules()
    if (rules.length === 0) return { points: 0 }
    const now = this.#now() * unitsPerMs(this.precision)
    const ranges: { entry: SeriesEntry; from: number; to: number }[] = []
    for (const entry of this.#index.all()) {
      const maxAge = retentionFor(rules, entry.key)
      if (maxAge !== undefined) ranges.push({ entry, from: 0, to: now - maxAge })
    }
    let points = 0
    await this.#sealThen(() => {
      points = this.#rewrite(ranges.filter((r) => r.to > 0))
    })
    return { points }
  }

  async stats(): Promise<StoreStats> {
    this.#checkOpen()
    const totals = this.#catalogue.totals()
    const points = totals.points + this.#headPoints
    const catalogueBytes = readdirSync(this.#dir)
      // The -shm file is SQLite's in-memory WAL index, 32 KiB while open, gone when closed.
      .filter((name) => name.startsWith('catalogue.db') && !name.endsWith('-shm'))
      .reduce((n, name) => n + statSync(join(this.#dir, name)).size, 0)
    const walBytes = this.#wal.bytes()
    const bytesOnDisk = catalogueBytes + walBytes
    return Promise.resolve({
      engine: 'embedded',
      series: this.#index.size,
      points,
      bytesOnDisk,
      bytesPerPoint: points === 0 ? 0 : bytesOnDisk / points,
      detail: {
        chunks: totals.chunks,
        quarantinedChunks: this.#catalogue.quarantined(),
        chunkBytes: totals.chunkBytes,
        catalogueBytes,
        walBytes,
        headPoints: this.#headPoints,
        encodeThreads: this.#encoder.threads,
        pointsEncodedOnThreads: this.#encoder.encoded.workers,
      },
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    for (const timer of this.#timers) clearInterval(timer)
    await this.#relieving
    await this.#sealer.running
    await this.#compacting?.catch(() => undefined)
    await this.checkpoint()
    this.#closed = true
    await this.#wal.close()
    await this.#encoder.close()
    this.#catalogue.close()
    this.#unlock()
  }
}
