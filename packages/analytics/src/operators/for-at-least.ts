import { checkPositive, invalidOptions } from './operator-options.js'

/** Options of a {@link ForAtLeast}. */
export interface ForAtLeastOptions {
  /** How long the raise condition must hold without a break before the output is active, in ms. */
  readonly forMs: number
  /**
   * `high` (default): raise when value ≥ `above`, clear when value ≤ `below`.
   * `low`: raise when value ≤ `below`, clear when value ≥ `above`.
   * With neither threshold, the value is a condition: non-zero (true) raises, zero (false) clears.
   */
  readonly direction?: 'high' | 'low'
  readonly above?: number
  readonly below?: number
  /** How long the clear condition must hold before the output clears, in ms (default 0). */
  readonly clearForMs?: number
}

/** What a {@link ForAtLeast} says after one point. */
export interface ForAtLeastOutput {
  /** Raised: the condition held for `forMs`, and has not cleared since. */
  readonly active: boolean
  /** The raise condition holds (or, when active, the clear condition), but not long enough yet. */
  readonly pending: boolean
  /** Epoch ms when the current phase began (pending, active, or inactive). */
  readonly since: number
  /** Milliseconds in the current phase. */
  readonly heldMs: number
  /** True on the point that raised or cleared. */
  readonly changed: boolean
  readonly value: number
}

/**
 * "Condition true for at least N seconds", with hysteresis: raises when the value has been at or
 * beyond the raise threshold continuously for `forMs` (judged at the points' timestamps — it
 * raises on the first point at least `forMs` after the condition began, never between points),
 * and clears only at the other threshold, so a value hovering around one threshold does not
 * flap. `forMs: 0` is plain hysteresis. A point not newer than the last one is ignored.
 *
 * @example
 * const hot = new ForAtLeast({ forMs: 300_000, above: 30, below: 28 })
 * hot.step(0, 31).active // false (pending)
 * hot.step(300_000, 30.5).active // true
 * hot.step(360_000, 29).active // true (between the thresholds)
 * hot.step(420_000, 27.9).active // false
 */
export class ForAtLeast {
  readonly #forMs: number
  readonly #clearForMs: number
  readonly #raise: (v: number) => boolean
  readonly #clear: (v: number) => boolean
  #active = false
  #since: number | undefined
  #pendingSince: number | undefined
  #lastTs = -Infinity
  #output: ForAtLeastOutput | undefined

  constructor(options: ForAtLeastOptions) {
    this.#forMs = checkPositive('forMs', options.forMs, { allowZero: true })
    this.#clearForMs = checkPositive('clearForMs', options.clearForMs ?? 0, { allowZero: true })
    const { above, below } = options
    const direction = options.direction ?? 'high'
    if (!['high', 'low'].includes(direction)) {
      throw invalidOptions('direction', `direction is high or low, got ${direction as string}`)
    }
    if (above === undefined && below === undefined) {
      this.#raise = direction === 'high' ? (v) => v !== 0 : (v) => v === 0
      this.#clear = (v) => !this.#raise(v)
      return
    }
    if (
      above === undefined ||
      below === undefined ||
      !Number.isFinite(above) ||
      !Number.isFinite(below)
    ) {
      throw invalidOptions('above', 'give both above and below (finite numbers), or neither')
    }
    if (below > above)
      throw invalidOptions('below', `below (${String(below)}) is above above (${String(above)})`)
    this.#raise = direction === 'high' ? (v) => v >= above : (v) => v <= below
    this.#clear = direction === 'high' ? (v) => v <= below : (v) => v >= above
  }

  /** The output of the last step, if any. */
  get output(): ForAtLeastOutput | undefined {
    return this.#output
  }

  step(ts: number, value: number): ForAtLeastOutput | undefined {
    if (Number.isNaN(value) || !Number.isFinite(ts) || ts <= this.#lastTs) return this.#output
    this.#lastTs = ts
    this.#since ??= ts
    const wasActive = this.#active
    const holds = wasActive ? this.#clear(value) : this.#raise(value)
    const need = wasActive ? this.#clearForMs : this.#forMs
    if (!holds) {
      this.#pendingSince = undefined
    } else {
      this.#pendingSince ??= ts
      if (ts - this.#pendingSince >= need) {
        this.#active = !wasActive
        this.#since = ts
        this.#pendingSince = undefined
      }
    }
    const since = this.#pendingSince ?? this.#since
    return (this.#output = {
      active: this.#active,
      pending: this.#pendingSince !== undefined,
      since,
      heldMs: ts - since,
      changed: this.#active !== wasActive,
      value,
    })
  }
}
