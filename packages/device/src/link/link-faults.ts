/** One write held back by a delay fault: its bytes and when they are due. */
export interface HeldWrite {
  readonly at: number
  readonly buf: Buffer
}

const noWrites: readonly HeldWrite[] = []

/**
 * The faults injected into one link: a partition (connects refused until a time) and a write
 * delay (every write waits a while, in order). A link allocates this on its first fault only, so
 * a link that never sees one keeps a single null field for all of it.
 *
 * The link asks before each write whether it {@link holds}; if so it {@link hold}s the bytes and
 * schedules itself for the returned time, and when that comes it sends what {@link takeDue}
 * returns. Writing stays with the link, which owns the socket.
 *
 * @example
 * const faults = (this.#faults ??= new LinkFaults())
 * faults.delayWrites(500, now + 10_000)
 * if (faults.holds(now)) scheduler.schedule(link, faults.hold(bytes, now))
 */
export class LinkFaults {
  #partitionedUntil = 0
  #delayMs = 0
  #delayUntil = 0
  /** Writes waiting, oldest first; null when none. */
  #held: HeldWrite[] | null = null

  /** True while a partition refuses connects. */
  isPartitioned(now: number): boolean {
    return now < this.#partitionedUntil
  }

  /** Refuses connects until `untilMs` (a longer partition already on is kept). */
  partition(untilMs: number): void {
    this.#partitionedUntil = Math.max(this.#partitionedUntil, untilMs)
  }

  /** Every write waits `ms` more until `untilMs`. */
  delayWrites(ms: number, untilMs: number): void {
    this.#delayMs = ms
    this.#delayUntil = untilMs
  }

  /** True when a write at `now` must wait: a delay is on, or earlier writes still wait (order is kept). */
  holds(now: number): boolean {
    return this.#held !== null || (this.#delayMs > 0 && now < this.#delayUntil)
  }

  /** Holds `bytes` back; returns when they are due. */
  hold(bytes: Buffer, now: number): number {
    const at = now + this.#delayMs
    ;(this.#held ??= []).push({ at, buf: bytes })
    return at
  }

  /** When the oldest held write is due; undefined when none waits. */
  get nextDueAt(): number | undefined {
    return this.#held?.[0]?.at
  }

  /** Takes the held writes due at `now`, oldest first. */
  takeDue(now: number): readonly HeldWrite[] {
    const held = this.#held
    if (held === null) return noWrites
    let taken = 0
    while (taken < held.length && (held[taken] as HeldWrite).at <= now) taken++
    if (taken === held.length) {
      this.#held = null
      return held
    }
    return taken === 0 ? noWrites : held.splice(0, taken)
  }

  /** Forgets the held writes (their connection is gone); the partition and delay stay. */
  dropHeld(): void {
    this.#held = null
  }
}
