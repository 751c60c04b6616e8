/**
 * How long a failed delivery waits before its next attempt.
 *
 * The same "equal jitter" schedule as the device SDK's reconnect backoff
 * (packages/device/src/shared/backoff.ts); duplicated on purpose, since cloud never imports
 * device (BRIEF §1). Should a third copy appear, it belongs in @strata/protocol.
 */
export interface RetryBackoffOptions {
  /** The first wait, before jitter. */
  readonly initialMs: number
  /** No wait is longer than this. */
  readonly maxMs: number
  /** Each failed attempt multiplies the wait by this. */
  readonly factor: number
}

export const defaultRetryBackoffOptions: RetryBackoffOptions = {
  initialMs: 1_000,
  maxMs: 600_000,
  factor: 2,
}

/**
 * The wait after failed attempt number `attempt` (1 after the first failure): exponential,
 * capped at `maxMs`, with half of each step fixed and half random, so deliveries that failed
 * together do not retry together, and none retries in a tight loop.
 *
 * @example
 * retryDelayMs(3, defaultRetryBackoffOptions, Math.random) // between 2,000 and 4,000
 */
export function retryDelayMs(
  attempt: number,
  options: RetryBackoffOptions = defaultRetryBackoffOptions,
  random: () => number = Math.random,
): number {
  // Clamp the exponent: factor ** attempt overflows to Infinity long before attempts run out.
  const exponent = Math.min(Math.max(0, attempt - 1), 64)
  const step = Math.min(options.maxMs, options.initialMs * options.factor ** exponent)
  return Math.round(step / 2 + random() * (step / 2))
}
