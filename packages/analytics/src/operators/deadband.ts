import { checkPositive, invalidOptions } from './operator-options.js'

/** Options of a {@link Deadband}: exactly one of `threshold` and `percent`. */
export interface DeadbandOptions {
  /** Emit when the value moved at least this much from the last emitted value. */
  readonly threshold?: number
  /** Emit when the value moved at least this percentage of the last emitted value. */
  readonly percent?: number
  /** Emit anyway when nothing was emitted for this long (a keep-alive), in ms. */
  readonly maxIntervalMs?: number
}

/** What a {@link Deadband} says about one point. */
export interface DeadbandOutput {
  /** True when this point passes the deadband (always for the first point). */
  readonly emit: boolean
  readonly value: number
  /** The last emitted value, this one included when it was emitted. */
  readonly last: number
  /** This value minus the previously emitted one (0 for the first point). */
  readonly delta: number
}

/**
 * Report-by-exception: passes a value only when it moved by at least the threshold (absolute, or
 * a percentage of the last value passed) since the last value passed, so consecutive passed
 * values are never closer than the threshold. Memory: two numbers. Non-finite values never pass.
 *
 * @example
 * const db = new Deadband({ threshold: 0.5 })
 * db.step(0, 20.0).emit // true (first value)
 * db.step(1000, 20.3).emit // false
 * db.step(2000, 20.6).emit // true
 */
export class Deadband {
  readonly #threshold: number | undefined
  readonly #percent: number | undefined
  readonly #maxIntervalMs: number | undefined
  #last: number | undefined
  #lastTs = 0
  #output: DeadbandOutput | undefined

  constructor(options: DeadbandOptions) {
    if ((options.threshold === undefined) === (options.percent === undefined)) {
      throw invalidOptions('threshold', 'a deadband takes exactly one of threshold and percent')
    }
    this.#threshold =
      options.threshold === undefined ? undefined : checkPositive('threshold', options.threshold)
    this.#percent =
      options.percent === undefined ? undefined : checkPositive('percent', options.percent)
    this.#maxIntervalMs =
      options.maxIntervalMs === undefined
        ? undefined
        : checkPositive('maxIntervalMs', options.maxIntervalMs)
  }

  /** The output of the last step, if any. */
  get output(): DeadbandOutput | undefined {
    return this.#output
  }

  step(ts: number, value: number): DeadbandOutput {
    const last = this.#last
    if (!Number.isFinite(value)) {
      return (this.#output = { emit: false, value, last: last ?? NaN, delta: NaN })
    }
    if (last === undefined) return this.#emit(ts, value, 0)
    const delta = value - last
    const band = this.#threshold ?? ((this.#percent ?? 0) / 100) * Math.abs(last)
    const moved = band === 0 ? delta !== 0 : Math.abs(delta) >= band
    const stale = this.#maxIntervalMs !== undefined && ts - this.#lastTs >= this.#maxIntervalMs
    if (moved || stale) return this.#emit(ts, value, delta)
    return (this.#output = { emit: false, value, last, delta })
  }

  #emit(ts: number, value: number, delta: number): DeadbandOutput {
    this.#last = value
    this.#lastTs = ts
    return (this.#output = { emit: true, value, last: value, delta })
  }
}
