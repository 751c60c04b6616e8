/** How a device waits between reconnect attempts. */
export interface BackoffOptions {
  /** The first wait, before jitter. */
  readonly initialMs: number
  /** No wait is longer than this. */
  readonly maxMs: number
  /** Each failed attempt multiplies the wait by this. */
  readonly factor: number
}

export const defaultBackoffOptions: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, factor: 2 }

/**
 * The wait before reconnect attempt `attempt` (0 for the first retry): exponential, capped, with
 * "equal jitter" — half the step is fixed and half is random — so a fleet that lost its link at
 * the same moment spreads its reconnects out, yet no device retries at once in a tight loop.
 *
 * @example
 * backoffDelayMs(3, defaultBackoffOptions, Math.random) // between 4,000 and 8,000
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = defaultBackoffOptions,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt))
  return Math.round(step / 2 + random() * (step / 2))
}
