import { ProtocolError, StrataError, type StrataErrorOptions } from '@strata/protocol'
import {
  TsdbError,
  canonicalSeriesKey,
  normalizeSeriesKey,
  valueTypeOf,
  type SeriesKey,
  type TimeSeriesStore,
  type Value,
  type ValueType,
} from '@strata/tsdb'
import { CliError } from '../errors.js'

/** Points per write: big enough to amortise the log's fsync, small enough to bound memory. */
export const importBatchPoints = 50_000

/** The newest timestamp the store accepts, relative to now (its default clock-skew allowance). */
const maxFutureMs = 3_600_000
/** 10000-01-01T00:00:00Z, the end of the store's time range. */
const maxTimeMs = 253_402_300_800_000
/** Raw-key lookups remembered; past this the cache starts afresh (series stay counted). */
const maxCachedKeys = 100_000

const resumeHint =
  'Fix the line and run the same import again: the points already imported are rewritten with the same values (writes are idempotent), so nothing is doubled.'

/** A series seen by this import, with the points of it in the pending batch. */
export interface ImportSeries {
  readonly key: Required<SeriesKey>
  readonly canonical: string
  type: ValueType | undefined
  times: number[]
  values: Value[]
}

/**
 * Collects the points an import reads into batches of about {@link importBatchPoints} and
 * writes each as backfill, all-or-nothing. Every point is checked as it is added, so a bad one
 * is reported with its line; nothing of the batch it would have joined is written.
 */
export class ImportWriter {
  readonly #store: TimeSeriesStore
  readonly #file: string
  readonly #nowMs: number
  readonly #byRaw = new Map<string, ImportSeries>()
  readonly #byCanonical = new Map<string, ImportSeries>()
  #pending: ImportSeries[] = []
  #pendingPoints = 0
  #committed = 0
  /** The last line of the last batch written. */
  #committedLine = 0
  /** The first line with a point in the pending batch. */
  #pendingLine: number | undefined

  constructor(store: TimeSeriesStore, file: string, nowMs: number) {
    this.#store = store
    this.#file = file
    this.#nowMs = nowMs
  }

  /** Points durably written so far. */
  get points(): number {
    return this.#committed
  }

  /** Distinct series this import has written or is about to write. */
  get series(): number {
    return this.#byCanonical.size
  }

  /**
   * The series a raw key (any string unique to the key's parts) stands for; `build` makes the
   * key the first time. Throws naming the line when the key breaks the store's rules.
   */
  seriesFor(rawKey: string, build: () => SeriesKey, line: number): ImportSeries {
    const cached = this.#byRaw.get(rawKey)
    if (cached !== undefined) return cached
    const raw = build()
    let key: Required<SeriesKey>
    try {
      key = normalizeSeriesKey(raw)
    } catch (err) {
      throw this.lineError(line, err)
    }
    const canonical = canonicalSeriesKey(key)
    let series = this.#byCanonical.get(canonical)
    if (series === undefined) {
      series = { key, canonical, type: undefined, times: [], values: [] }
      this.#byCanonical.set(canonical, series)
    }
    if (this.#byRaw.size >= maxCachedKeys) this.#byRaw.clear()
    this.#byRaw.set(rawKey, series)
    return series
  }

  /** Adds one point read from `line` to the pending batch. */
  add(series: ImportSeries, time: number, value: Value, line: number): void {
    let type: ValueType
    try {
      type = valueTypeOf(value)
    } catch (err) {
      throw this.lineError(line, err)
    }
    if (series.type === undefined) series.type = type
    else if (series.type !== type) {
      throw this.lineError(
        line,
        new TsdbError(
          'TSDB_TYPE_MISMATCH',
          `${describe(series.key)} got a ${type} value after ${series.type} values`,
          {
            hint: 'A series keeps the type of its first point; write other types under another metric name.',
          },
        ),
      )
    }
    if (!Number.isSafeInteger(time) || time < 0 || time >= maxTimeMs) {
      throw this.lineError(
        line,
        new ProtocolError(
          'PROTOCOL_INVALID',
          `timestamp ${String(time)} ms is outside 1970..9999`,
          {
            hint: 'Check the timestamp unit (--precision).',
          },
        ),
      )
    }
    if (time > this.#nowMs + maxFutureMs) {
      throw this.lineError(
        line,
        new ProtocolError(
          'PROTOCOL_INVALID',
          `timestamp ${new Date(time).toISOString()} is more than an hour in the future`,
          { hint: 'Check the timestamp unit (--precision) and the clock that wrote the file.' },
        ),
      )
    }
    if (series.times.length === 0) this.#pending.push(series)
    series.times.push(time)
    series.values.push(value)
    this.#pendingPoints++
    this.#pendingLine ??= line
  }

  /** Called after each whole line: writes the batch once it is big enough. */
  async endLine(line: number): Promise<void> {
    if (this.#pendingPoints >= importBatchPoints) await this.flush(line)
  }

  /** Writes the pending batch; `lastLine` is the last line it holds (for error messages). */
  async flush(lastLine: number): Promise<void> {
    if (this.#pendingPoints === 0) return
    const batches = this.#pending.map((s) => ({ series: s.key, times: s.times, values: s.values }))
    try {
      await this.#store.write(batches, { backfill: true })
    } catch (err) {
      throw this.lineError(lastLine, err, true)
    }
    this.#committed += this.#pendingPoints
    this.#committedLine = lastLine
    for (const s of this.#pending) {
      s.times = []
      s.values = []
    }
    this.#pending = []
    this.#pendingPoints = 0
    this.#pendingLine = undefined
  }

  /**
   * `err` restated with the file, the line (or, for a failed write, the lines of the batch) and
   * how much was imported before it; the same error class and code.
   */
  lineError(line: number, err: unknown, wholeBatch = false): Error {
    if (!(err instanceof StrataError)) return err instanceof Error ? err : new Error(String(err))
    const first = this.#pendingLine ?? line
    const where =
      wholeBatch && first !== line
        ? `${this.#file} lines ${String(first)}-${String(line)}`
        : `${this.#file} line ${String(line)}`
    const column = /^line \d+, (column \d+): /.exec(err.message)
    const what = column === null ? err.message : err.message.slice(column[0].length)
    const at = column === null ? where : `${where}, ${column[1] ?? ''}`
    const message = `${at}: ${what}; ${this.importedSoFar()}`
    const resume = this.#committed === 0 ? 'Fix the line and run the import again.' : resumeHint
    const options: StrataErrorOptions = {
      hint: err.hint === undefined ? resume : `${err.hint} ${resume}`,
      details: { ...err.details, file: this.#file, line, importedPoints: this.#committed },
      cause: err,
    }
    if (err instanceof TsdbError) return new TsdbError(err.code, message, options)
    if (err instanceof ProtocolError) return new ProtocolError(err.code, message, options)
    if (err instanceof CliError) return new CliError(err.code, message, options)
    return new StrataError(err.code, message, options)
  }

  /** How much of the file is already in the store, for error messages. */
  importedSoFar(): string {
    if (this.#committed === 0) return 'nothing was imported'
    return `${this.#committed.toLocaleString('en')} points from lines 1-${String(this.#committedLine)} were imported, nothing after line ${String(this.#committedLine)}`
  }
}

/** `tenant/device/metric{k=v}` for messages. */
export function describe(key: Required<SeriesKey>): string {
  const tags = Object.entries(key.tags)
  const tagText = tags.length === 0 ? '' : `{${tags.map(([k, v]) => `${k}=${v}`).join(',')}}`
  return `${key.tenant}/${key.device}/${key.metric}${tagText}`
}
