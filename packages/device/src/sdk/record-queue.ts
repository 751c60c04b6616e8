import type { TelemetryRecord } from '@strata/protocol'

/**
 * A FIFO of telemetry records with a bound and a drop-oldest overflow policy: a device that stays
 * offline keeps its newest readings, which are the ones worth having, and its memory stays flat.
 * Amortised O(1) push and take (a head index instead of `shift()`).
 */
export class RecordQueue {
  readonly #max: number
  #items: TelemetryRecord[] = []
  #head = 0

  constructor(maxRecords: number) {
    this.#max = maxRecords
  }

  get length(): number {
    return this.#items.length - this.#head
  }

  /** Appends records; returns how many of the oldest were dropped to stay within the bound. */
  push(records: readonly TelemetryRecord[]): number {
    for (const record of records) this.#items.push(record)
    return this.#trim()
  }

  /** Puts records back at the front (a batch to retry); the bound still holds, oldest first out. */
  unshift(records: readonly TelemetryRecord[]): number {
    this.#items = [...records, ...this.#items.slice(this.#head)]
    this.#head = 0
    return this.#trim()
  }

  /** Removes and returns up to `n` of the oldest records. */
  take(n: number): TelemetryRecord[] {
    const end = Math.min(this.#items.length, this.#head + n)
    const out = this.#items.slice(this.#head, end)
    this.#head = end
    this.#compact()
    return out
  }

  #trim(): number {
    const over = this.length - this.#max
    if (over <= 0) return 0
    this.#head += over
    this.#compact()
    return over
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}
