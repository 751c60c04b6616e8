import { TsdbError } from '../errors.js'
import type { SeriesBatch, WriteOptions, WriteResult } from '../model/points.js'
import { describe, prepareWrite, type PreparedBatch } from '../model/prepare-write.js'
import type { HeadSealing } from './head-sealing.js'
import { RecordBuffers } from './record-buffers.js'
import { updateLatest, type SeriesEntry } from './series-index.js'
import type { StoreParts } from './store-parts.js'
import { encodeWriteRecord, readWriteRecord, type RecordColumns } from './wal-record.js'

/** How far from now a write's timestamps may be (see `StoreOptions`). */
export interface WriteWindow {
  readonly lateWindowMs: number
  readonly maxFutureMs: number
}

/**
 * The write path: checks a write, registers its new series, logs it as one record and, once
 * the record is durable, appends its points to the heads; a write resolves when its points are
 * durable and readable.
 */
export class WritePath {
  readonly #parts: StoreParts
  readonly #sealing: HeadSealing
  readonly #window: WriteWindow
  readonly #recordBuffers = new RecordBuffers()

  constructor(parts: StoreParts, sealing: HeadSealing, window: WriteWindow) {
    this.#parts = parts
    this.#sealing = sealing
    this.#window = window
  }

  async write(batches: readonly SeriesBatch[], options: WriteOptions): Promise<WriteResult> {
    const { precision, index, wal } = this.#parts
    const prepared = prepareWrite(
      batches,
      {
        precision,
        lateWindowMs: this.#window.lateWindowMs,
        maxFutureMs: this.#window.maxFutureMs,
        nowMs: this.#parts.now(),
        backfill: options.backfill === true,
      },
      false,
    )
    this.#addNewSeries(prepared)
    const logged = prepared.map((p) => {
      const entry = index.byCanonical(p.canonical) as SeriesEntry
      return { seriesId: entry.id, type: entry.type, times: p.times, values: p.values }
    })
    // The points are applied from the record (numbers as typed views, copied in bulk into the
    // head); strings from a copy of the caller's arrays, which are not ours after this call.
    const record = encodeWriteRecord(logged, (size) => this.#recordBuffers.take(size))
    const strings = logged.map((l) =>
      l.type === 'string' ? (l.values.slice() as string[]) : undefined,
    )
    let points = 0
    await wal.append(record, () => {
      const columns = readWriteRecord(record)
      for (let i = 0; i < columns.length; i++) {
        const { seriesId, times, values } = columns[i] as RecordColumns
        const entry = index.byId(seriesId) as SeriesEntry
        const column = strings[i] ?? values
        entry.head.append(times, column)
        points += times.length
        this.#sealing.appended(entry, times.length)
        updateLatest(entry, times, column)
      }
    })
    // Applied (copied into the heads) and written: nothing reads the record any more.
    this.#recordBuffers.give(record)
    this.#sealing.afterWrite()
    return { points, series: prepared.length }
  }

  /** Checks the batches' series against their known types and registers the new ones. */
  #addNewSeries(prepared: readonly PreparedBatch[]): void {
    const { index, catalogue } = this.#parts
    const fresh = prepared.filter((p) => {
      const existing = index.byCanonical(p.canonical)
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
      const ids = catalogue.addSeries(fresh)
      fresh.forEach((p, i) =>
        index.add({ id: ids[i] as number, key: p.key, canonical: p.canonical, type: p.type }),
      )
    }
  }
}
