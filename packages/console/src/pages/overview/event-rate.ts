/** Counts per second over a sliding window (messages and points from the live feed). */
export class EventRate {
  readonly #windowMs: number
  readonly #samples: { at: number; n: number }[] = []

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs
  }

  add(n: number, at = Date.now()): void {
    this.#samples.push({ at, n })
  }

  perSecond(now = Date.now()): number {
    while (this.#samples.length > 0 && (this.#samples[0]?.at ?? now) < now - this.#windowMs)
      this.#samples.shift()
    let sum = 0
    for (const s of this.#samples) sum += s.n
    return sum / (this.#windowMs / 1000)
  }
}
