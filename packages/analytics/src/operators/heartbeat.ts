import { checkPositive } from './operator-options.js'

/** Options of a {@link Heartbeat}. */
export interface HeartbeatOptions {
  /** A series with no point for this long is silent, in ms. */
  readonly timeoutMs: number
}

/** What a {@link Heartbeat} says after a point or a tick. */
export interface HeartbeatOutput {
  readonly silent: boolean
  /** Epoch ms of the last point. */
  readonly lastSeen: number
  /** Milliseconds since the last point, at the time of the step or tick. */
  readonly silentMs: number
  /** True on the tick that found the series silent, and on the point that ended the silence. */
  readonly changed: boolean
}

/**
 * Missing data: a series is silent once `timeoutMs` passed since its last point without another. Points
 * come through `step(ts)`; the passing of time through `tick(now)`, which the caller drives (a
 * timer in the cloud or gateway, the recorded timestamps in a replay) — the operator never reads
 * a clock. Memory: three numbers.
 *
 * @example
 * const hb = new Heartbeat({ timeoutMs: 60_000 })
 * hb.step(0)
 * hb.tick(30_000).silent // false
 * hb.tick(60_000) // { silent: true, lastSeen: 0, silentMs: 60000, changed: true }
 * hb.step(70_000).changed // true: back
 */
export class Heartbeat {
  readonly timeoutMs: number
  #lastSeen: number | undefined
  #silent = false
  #output: HeartbeatOutput | undefined

  constructor(options: HeartbeatOptions) {
    this.timeoutMs = checkPositive('timeoutMs', options.timeoutMs)
  }

  /** The output of the last step or tick, if any. */
  get output(): HeartbeatOutput | undefined {
    return this.#output
  }

  /** The epoch ms from which the series counts as silent; undefined before the first point and while silent. */
  get deadline(): number | undefined {
    return this.#lastSeen === undefined || this.#silent
      ? undefined
      : this.#lastSeen + this.timeoutMs
  }

  /** A point arrived at `ts` (its value does not matter). A point older than the last is ignored. */
  step(ts: number, _value?: number): HeartbeatOutput | undefined {
    if (!Number.isFinite(ts)) return this.#output
    if (this.#lastSeen !== undefined && ts < this.#lastSeen) return this.#output
    const changed = this.#silent
    this.#silent = false
    this.#lastSeen = ts
    return (this.#output = { silent: false, lastSeen: ts, silentMs: 0, changed })
  }

  /** Time passed to `now`: the output says whether the series is silent and whether it just became so. */
  tick(now: number): HeartbeatOutput | undefined {
    const lastSeen = this.#lastSeen
    if (lastSeen === undefined) return undefined
    const silent = now - lastSeen >= this.timeoutMs
    const changed = silent && !this.#silent
    if (silent) this.#silent = true
    return (this.#output = {
      silent: this.#silent,
      lastSeen,
      silentMs: Math.max(0, now - lastSeen),
      changed,
    })
  }
}
