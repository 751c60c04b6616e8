/**
 * Token buckets by key: `ratePerS` tokens refill each second up to `burst`. Keys idle long enough
 * to be full again are forgotten, so memory follows the active keys only.
 */
export class TokenBuckets {
  readonly #ratePerS: number
  readonly #burst: number
  readonly #clock: () => number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(ratePerS: number, burst: number, clock: () => number) {
    this.#ratePerS = ratePerS
    this.#burst = burst
    this.#clock = clock
  }

  /**
   * Takes `n` tokens for `key`; false (taking none) when there are not enough. A key may have its
   * own rate and burst (a device's profile); the constructor's apply otherwise.
   */
  take(key: string, n = 1, ratePerS = this.#ratePerS, burst = this.#burst): boolean {
    const now = this.#clock()
    const b = this.#buckets.get(key)
    const tokens =
      b === undefined ? burst : Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerS)
    if (tokens < n) {
      this.#buckets.set(key, { tokens, at: now })
      return false
    }
    this.#buckets.set(key, { tokens: tokens - n, at: now })
    if (this.#buckets.size > 100_000) this.#prune(now)
    return true
  }

  #prune(now: number): void {
    const fullAfterMs = (this.#burst / this.#ratePerS) * 1000
    for (const [k, b] of this.#buckets) if (now - b.at > fullAfterMs) this.#buckets.delete(k)
  }
}
