import type { SeriesBatch, TimeSeriesStore } from '@strata/tsdb'
import { isStrataError } from '@strata/protocol'
import { pointCount } from './telemetry-batches.js'

export interface WriteBatcherOptions {
  /** Flush when this many points wait (default 50,000). */
  readonly maxPoints: number
  /** Bound on points waiting or being written; beyond it `write` waits (backpressure). */
  readonly maxPendingPoints: number
  /** Told how many points each successful store write made durable (metrics). */
  readonly onStored?: (points: number) => void
  /**
   * Told the batches of each successful store write, once durable (the live feed). Called on the
   * ingest path: it must return at once and never throw.
   */
  readonly onDurable?: (batches: readonly SeriesBatch[]) => void
}

export const defaultWriteBatcherOptions: WriteBatcherOptions = {
  maxPoints: 50_000,
  maxPendingPoints: 500_000,
}

interface Pending {
  readonly batches: readonly SeriesBatch[]
  readonly points: number
  resolve(): void
  reject(err: unknown): void
}

/**
 * Joins the writes of many messages into one store write per event-loop turn (the store then
 * fsyncs once for all of them, and once for all the writes that arrive while it syncs), and
 * resolves each caller only when its points are durable. A message whose points the store refuses (wrong type, too late, too far ahead…) is never allowed to
 * poison the others: when a joined write fails validation, each message is written on its own and
 * only the bad one fails.
 */
export class WriteBatcher {
  readonly #store: TimeSeriesStore
  readonly #options: WriteBatcherOptions
  #queue: Pending[] = []
  #queuedPoints = 0
  #inFlightPoints = 0
  #scheduled = false
  #waiters: (() => void)[] = []
  readonly #writing = new Set<Promise<void>>()

  constructor(store: TimeSeriesStore, options: Partial<WriteBatcherOptions> = {}) {
    this.#store = store
    this.#options = { ...defaultWriteBatcherOptions, ...options }
  }

  /** Resolves once the batches are durable; rejects with the store's error for these points only. */
  async write(batches: readonly SeriesBatch[]): Promise<void> {
    const points = pointCount(batches)
    if (points === 0) return
    while (this.#queuedPoints + this.#inFlightPoints > this.#options.maxPendingPoints) {
      await new Promise<void>((r) => this.#waiters.push(r))
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ batches, points, resolve, reject })
      this.#queuedPoints += points
      if (this.#queuedPoints >= this.#options.maxPoints) this.#flush()
      else if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => {
          this.#flush()
        })
      }
    })
  }

  /** Resolves when everything queued so far is written (or failed). */
  async drain(): Promise<void> {
    this.#flush()
    while (this.#writing.size > 0) await Promise.all(this.#writing)
  }

  #flush(): void {
    this.#scheduled = false
    if (this.#queue.length === 0) return
    const group = this.#queue
    const points = this.#queuedPoints
    this.#queue = []
    this.#queuedPoints = 0
    this.#inFlightPoints += points
    // Not chained behind the group before: the store's write-ahead log joins every write that
    // arrives while it syncs into its next sync (group commit). Chained, each group waited for the
    // previous one's fdatasync, so a busy node paid one sync per event-loop turn, in turn, and
    // PUBACKs queued behind them. The log still applies and acknowledges writes in call order.
    const writing: Promise<void> = this.#writeGroup(group).finally(() => {
      this.#writing.delete(writing)
      this.#inFlightPoints -= points
      for (const w of this.#waiters.splice(0)) w()
    })
    this.#writing.add(writing)
  }

  async #writeGroup(group: readonly Pending[]): Promise<void> {
    try {
      const batches = group.flatMap((p) => p.batches)
      const written = await this.#store.write(batches)
      this.#options.onStored?.(written.points)
      this.#options.onDurable?.(batches)
      for (const p of group) p.resolve()
      return
    } catch (err) {
      if (group.length === 1 || !isPointRefusal(err)) {
        for (const p of group) p.reject(err)
        return
      }
    }
    // One message's points were refused: find which, by writing each on its own.
    for (const p of group) {
      try {
        const written = await this.#store.write(p.batches)
        this.#options.onStored?.(written.points)
        this.#options.onDurable?.(p.batches)
        p.resolve()
      } catch (err) {
        p.reject(err)
      }
    }
  }
}

/**
 * The store refused the points themselves (bad series, wrong type, out of range, too late), as
 * opposed to the store failing: a refusal is the sender's to fix and never poisons other writes.
 */
export function isPointRefusal(err: unknown): boolean {
  return isStrataError(err) && pointRefusals.has(err.code)
}

const pointRefusals: ReadonlySet<string> = new Set([
  'TSDB_SERIES_INVALID',
  'TSDB_POINT_INVALID',
  'TSDB_TYPE_MISMATCH',
  'TSDB_TIME_OUT_OF_RANGE',
  'TSDB_TOO_LATE',
])
