/** Options of a {@link RuleTicker}. */
export interface RuleTickerOptions {
  /** Ticks come at most this often, however many deadlines fall due (coalescing). */
  readonly minIntervalMs: number
  /** The longest a timer waits; a far deadline is re-armed after this (timers overflow at 2^31 ms). */
  readonly maxDelayMs: number
}

export const defaultRuleTickerOptions: RuleTickerOptions = {
  minIntervalMs: 50,
  maxDelayMs: 3_600_000,
}

/**
 * One timer for the heartbeat operators of every rule: armed at the earliest deadline it was
 * told of, it calls `onTick(now)`, which runs the rules' ticks and returns the next deadline
 * (or undefined). `schedule` only ever moves the timer earlier, so telling it of every message's
 * deadline is cheap; a tick that comes early finds nothing and re-arms. The timer is unref'd.
 *
 * @example
 * const ticker = new RuleTicker({ clock: Date.now, onTick: (now) => engine.tick(now) })
 * ticker.schedule(message.ts + timeoutMs)
 */
export class RuleTicker {
  readonly #clock: () => number
  readonly #onTick: (now: number) => number | undefined
  readonly #options: RuleTickerOptions
  #timer: NodeJS.Timeout | undefined
  #at: number | undefined
  #lastTick = -Infinity
  #closed = false

  constructor(
    deps: { clock: () => number; onTick: (now: number) => number | undefined },
    options: Partial<RuleTickerOptions> = {},
  ) {
    this.#clock = deps.clock
    this.#onTick = deps.onTick
    this.#options = { ...defaultRuleTickerOptions, ...options }
  }

  /** When the timer fires next (epoch ms), if armed. */
  get armedAt(): number | undefined {
    return this.#at
  }

  /** Makes sure a tick comes no later than `deadline` (epoch ms); undefined does nothing. */
  schedule(deadline: number | undefined): void {
    if (this.#closed || deadline === undefined || !Number.isFinite(deadline)) return
    const at = Math.max(deadline, this.#lastTick + this.#options.minIntervalMs)
    if (this.#at !== undefined && this.#at <= at) return
    clearTimeout(this.#timer)
    this.#at = at
    const delay = Math.min(Math.max(0, at - this.#clock()), this.#options.maxDelayMs)
    this.#timer = setTimeout(() => {
      this.#fire()
    }, delay)
    this.#timer.unref()
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = undefined
  }

  #fire(): void {
    const at = this.#at
    this.#timer = undefined
    this.#at = undefined
    if (this.#closed) return
    const now = this.#clock()
    if (at !== undefined && now < at) {
      // woke early: the delay was capped at maxDelayMs, or the clock is not wall time
      this.schedule(at)
      return
    }
    this.#lastTick = now
    this.schedule(this.#onTick(now))
  }
}
