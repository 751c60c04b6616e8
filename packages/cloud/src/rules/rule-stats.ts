import type { RuleStats } from './rule-types.js'

/** How many recent evaluation latencies a rule keeps for its percentiles. */
const latencySamples = 256
/** The rate is evaluations of selected messages over this many one-second buckets. */
const rateSeconds = 60

/**
 * One rule's counters in memory: totals, the rate of selected evaluations over the last 60 s
 * (one bucket per second, so recording is O(1) and reading O(60)), and latency percentiles
 * over the last 256 timed selected evaluations (a ring; sorted only when read).
 */
export class RuleStatsRecorder {
  evaluations = 0
  selected = 0
  matched = 0
  errors = 0
  actionsRun = 0
  actionsFailed = 0
  lastError: { code: string; message: string; at: number } | undefined
  lastMatchAt: number | undefined
  readonly #latencies = new Float64Array(latencySamples)
  #latencyCount = 0
  readonly #buckets = new Uint32Array(rateSeconds)
  readonly #bucketSecond = new Float64Array(rateSeconds).fill(-1)

  /**
   * Counts one evaluation; `latencyMs` and the rate only for selected messages, `latencyMs` NaN
   * when the evaluation was not timed (the engine times a sample).
   */
  recordEvaluation(selected: boolean, matched: boolean, latencyMs: number, now: number): void {
    this.evaluations++
    if (!selected) return
    this.selected++
    if (matched) {
      this.matched++
      this.lastMatchAt = now
    }
    if (!Number.isNaN(latencyMs)) {
      this.#latencies[this.#latencyCount % latencySamples] = latencyMs
      this.#latencyCount++
    }
    const second = Math.floor(now / 1000)
    const i = second % rateSeconds
    if (this.#bucketSecond[i] !== second) {
      this.#bucketSecond[i] = second
      this.#buckets[i] = 0
    }
    this.#buckets[i] = (this.#buckets[i] ?? 0) + 1
  }

  recordError(code: string, message: string, at: number): void {
    this.errors++
    this.lastError = { code, message, at }
  }

  recordAction(ok: boolean): void {
    if (ok) this.actionsRun++
    else this.actionsFailed++
  }

  /** Selected evaluations per second over the 60 s before `now`. */
  ratePerSecond(now: number): number {
    const second = Math.floor(now / 1000)
    let sum = 0
    for (let i = 0; i < rateSeconds; i++) {
      const s = this.#bucketSecond[i] ?? -1
      if (s > second - rateSeconds && s <= second) sum += this.#buckets[i] ?? 0
    }
    return sum / rateSeconds
  }

  /** p50, p99 and max of the recent latencies (ms); zeros before any. */
  latency(): { p50: number; p99: number; max: number } {
    const n = Math.min(this.#latencyCount, latencySamples)
    if (n === 0) return { p50: 0, p99: 0, max: 0 }
    const sorted = this.#latencies.slice(0, n).sort()
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0
    return { p50: at(0.5), p99: at(0.99), max: sorted[n - 1] ?? 0 }
  }

  snapshot(now: number, health: RuleStats['health'], deadLetters: number): RuleStats {
    return {
      evaluations: this.evaluations,
      selected: this.selected,
      matched: this.matched,
      errors: this.errors,
      actionsRun: this.actionsRun,
      actionsFailed: this.actionsFailed,
      ratePerSecond: this.ratePerSecond(now),
      latencyMs: this.latency(),
      ...(this.lastError === undefined ? {} : { lastError: { ...this.lastError } }),
      ...(this.lastMatchAt === undefined ? {} : { lastMatchAt: this.lastMatchAt }),
      health,
      deadLetters,
    }
  }
}
