import { checkPositive } from './operator-options.js'

/** Options of a {@link RateOfChange}. */
export interface RateOfChangeOptions {
  /**
   * The series is a counter that only grows but may reset to 0 (a reboot): a drop is a reset,
   * and the increase since it is the new value, as Prometheus's `rate()` counts it.
   */
  readonly counter?: boolean
  /** No rate across a gap longer than this, in ms: the point after it starts afresh. */
  readonly maxGapMs?: number
}

/** What a {@link RateOfChange} says about one point. */
export interface RateOfChangeOutput {
  /** Change per second since the previous point; absent on the first point and after a gap. */
  readonly rate?: number
  readonly value: number
  readonly previous?: number
  /** Milliseconds since the previous point. */
  readonly intervalMs?: number
  /** True when a counter dropped (it was reset). */
  readonly reset: boolean
}

/**
 * The rate of change of one series per second, between consecutive points. Deterministic
 * (timestamps, no clock); a point not newer than the last one is ignored. Memory: two numbers.
 *
 * @example
 * const r = new RateOfChange({ counter: true })
 * r.step(0, 100)
 * r.step(10_000, 150).rate // 5 (per second)
 * r.step(20_000, 20).rate // 2: reset, 20 counted since
 */
export class RateOfChange {
  readonly #counter: boolean
  readonly #maxGapMs: number | undefined
  #prevTs: number | undefined
  #prev = 0
  #output: RateOfChangeOutput | undefined

  constructor(options: RateOfChangeOptions = {}) {
    this.#counter = options.counter === true
    this.#maxGapMs =
      options.maxGapMs === undefined ? undefined : checkPositive('maxGapMs', options.maxGapMs)
  }

  /** The output of the last step, if any. */
  get output(): RateOfChangeOutput | undefined {
    return this.#output
  }

  step(ts: number, value: number): RateOfChangeOutput | undefined {
    if (!Number.isFinite(value) || !Number.isFinite(ts)) return this.#output
    const prevTs = this.#prevTs
    if (prevTs !== undefined && ts <= prevTs) return this.#output
    const previous = this.#prev
    this.#prevTs = ts
    this.#prev = value
    if (prevTs === undefined) return (this.#output = { value, reset: false })
    const intervalMs = ts - prevTs
    if (this.#maxGapMs !== undefined && intervalMs > this.#maxGapMs) {
      return (this.#output = { value, previous, intervalMs, reset: false })
    }
    const reset = this.#counter && value < previous
    const change = reset ? value : value - previous
    return (this.#output = {
      rate: (change * 1000) / intervalMs,
      value,
      previous,
      intervalMs,
      reset,
    })
  }
}
