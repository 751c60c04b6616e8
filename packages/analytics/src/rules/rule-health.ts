import type { AnalyticsError } from '../errors.js'
import { checkPositive } from '../operators/operator-options.js'

/** Options of a {@link RuleHealth}. */
export interface RuleHealthOptions {
  /** Consecutive failures that disable a rule (default 10)… */
  readonly maxFailures?: number
  /** …when they all happened within this long, in ms (default 60 000). */
  readonly windowMs?: number
}

export const defaultRuleHealthOptions = { maxFailures: 10, windowMs: 60_000 } as const

/** `ok`: the last evaluation succeeded. `failing`: it failed. `disable`: stop running the rule. */
export type RuleHealthStatus = 'ok' | 'failing' | 'disable'

/** What {@link RuleHealth} knows. */
export interface RuleHealthSnapshot {
  readonly status: RuleHealthStatus
  readonly consecutiveFailures: number
  readonly evaluations: number
  readonly failures: number
  readonly lastError?: AnalyticsError
  readonly lastErrorAt?: number
  /** When the verdict became `disable`. */
  readonly disabledAt?: number
}

/**
 * Counts a rule's failures and says when to disable it: after `maxFailures` consecutive failures
 * within `windowMs` (a success resets the count). The verdict `disable` sticks until `reset()`;
 * the host acts on it (disables the rule, raises an alarm, writes the audit log). A condition
 * that read a missing field is not a failure; a message the rule did not select counts for
 * nothing. Time is the caller's (`at`), so replays judge as live runs do.
 *
 * @example
 * const health = new RuleHealth()
 * const verdict = health.record(rule.evaluate(message, context), Date.now())
 * if (verdict.status === 'disable') await disableRule(rule.name, verdict.lastError)
 */
export class RuleHealth {
  readonly maxFailures: number
  readonly windowMs: number
  /** Times of the current run of failures, the last `maxFailures` of them. */
  #run: number[] = []
  #consecutive = 0
  #evaluations = 0
  #failures = 0
  #lastError: AnalyticsError | undefined
  #lastErrorAt: number | undefined
  #disabledAt: number | undefined

  constructor(options: RuleHealthOptions = {}) {
    this.maxFailures = checkPositive(
      'maxFailures',
      options.maxFailures ?? defaultRuleHealthOptions.maxFailures,
      {
        integer: true,
      },
    )
    this.windowMs = checkPositive('windowMs', options.windowMs ?? defaultRuleHealthOptions.windowMs)
  }

  /** Records one evaluation's result (anything with `selected` and `error`). */
  record(
    result: { readonly selected?: boolean; readonly error?: AnalyticsError | undefined },
    at: number,
  ): RuleHealthSnapshot {
    if (result.selected === false) return this.snapshot()
    return result.error === undefined ? this.recordSuccess() : this.recordFailure(result.error, at)
  }

  recordSuccess(): RuleHealthSnapshot {
    this.#evaluations++
    this.#consecutive = 0
    if (this.#run.length > 0) this.#run = []
    return this.snapshot()
  }

  recordFailure(error: AnalyticsError, at: number): RuleHealthSnapshot {
    this.#evaluations++
    this.#failures++
    this.#consecutive++
    this.#lastError = error
    this.#lastErrorAt = at
    this.#run.push(at)
    if (this.#run.length > this.maxFailures) this.#run.shift()
    const first = this.#run[0] ?? at
    if (
      this.#disabledAt === undefined &&
      this.#run.length >= this.maxFailures &&
      at - first <= this.windowMs
    ) {
      this.#disabledAt = at
    }
    return this.snapshot()
  }

  snapshot(): RuleHealthSnapshot {
    const status: RuleHealthStatus =
      this.#disabledAt !== undefined ? 'disable' : this.#consecutive > 0 ? 'failing' : 'ok'
    // called per evaluation: a literal, then the optional fields (a spread clones slowly in V8)
    const snapshot: { -readonly [K in keyof RuleHealthSnapshot]: RuleHealthSnapshot[K] } = {
      status,
      consecutiveFailures: this.#consecutive,
      evaluations: this.#evaluations,
      failures: this.#failures,
    }
    if (this.#lastError !== undefined) snapshot.lastError = this.#lastError
    if (this.#lastErrorAt !== undefined) snapshot.lastErrorAt = this.#lastErrorAt
    if (this.#disabledAt !== undefined) snapshot.disabledAt = this.#disabledAt
    return snapshot
  }

  /** Forgets everything (after the rule was fixed and re-enabled). */
  reset(): void {
    this.#run = []
    this.#consecutive = 0
    this.#evaluations = 0
    this.#failures = 0
    this.#lastError = undefined
    this.#lastErrorAt = undefined
    this.#disabledAt = undefined
  }
}
