/** A token bucket: `ratePerSec` tokens a second, bursts up to one second's worth. */
export class RateLimiter {
  private tokens: number
  private last: number
  private readonly ratePerSec: number
  private readonly clock: () => number

  constructor(ratePerSec: number, clock: () => number) {
    this.ratePerSec = ratePerSec
    this.clock = clock
    this.tokens = ratePerSec
    this.last = clock()
  }

  /** Takes a token; false when none is left. */
  take(): boolean {
    const now = this.clock()
    this.tokens = Math.min(
      this.ratePerSec,
      this.tokens + ((now - this.last) / 1000) * this.ratePerSec,
    )
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
