/**
 * Something the scheduler wakes at `dueAt`. The scheduler owns `dueAt` and `heapIndex` (−1 when
 * not scheduled); an item is in the heap at most once, so each simulated device and each link
 * costs one slot and no timer of its own.
 */
export interface Timed {
  dueAt: number
  heapIndex: number
  /** Called once when `dueAt` has come; reschedule from inside if there is more to do. */
  fire(now: number): void
}

/** One timer for a whole fleet: a binary min-heap of {@link Timed} items behind one `setTimeout`. */
export interface Scheduler {
  /** The scheduler's clock (epoch ms unless the caller injected another). */
  now(): number
  /** Schedules `item` at `atMs`, moving it if it is already scheduled. */
  schedule(item: Timed, atMs: number): void
  /** Takes `item` out of the heap; nothing when it is not scheduled. */
  cancel(item: Timed): void
  /** Fires every item due at `now` (default: the clock) and returns how many fired. */
  runDue(now?: number): number
  /** Items scheduled now. */
  readonly size: number
  /** Clears the heap and the timer. Idempotent. */
  close(): Promise<void>
}

export interface SchedulerOptions {
  readonly clock?: () => number
  /** Called with what an item's `fire` threw; the other items still run. */
  readonly onError?: (err: unknown) => void
  /** Most items fired in one timer callback before yielding to I/O (default 2,000). */
  readonly maxBatch?: number
  /** False: `runDue` only, no timer (unit tests drive time themselves). Default true. */
  readonly timer?: boolean
}

/** setTimeout takes at most 2³¹−1 ms. */
const maxDelayMs = 2_147_483_647

/**
 * Creates a scheduler. Scheduling is O(log n) with no allocation per call: the heap stores the
 * items themselves, and each item remembers its own index.
 *
 * @example
 * const scheduler = createScheduler()
 * const item = { dueAt: 0, heapIndex: -1, fire: (now: number) => scheduler.schedule(item, now + 1_000) }
 * scheduler.schedule(item, scheduler.now() + 1_000) // fires every second until close()
 */
export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  return new HeapScheduler(options)
}

class HeapScheduler implements Scheduler {
  readonly #heap: Timed[] = []
  readonly #clock: () => number
  readonly #onError: (err: unknown) => void
  readonly #maxBatch: number
  readonly #useTimer: boolean
  #timer: NodeJS.Timeout | undefined
  /** When the armed timer fires; Infinity when none is armed. */
  #armedAt = Number.POSITIVE_INFINITY
  #closed = false

  constructor(options: SchedulerOptions) {
    this.#clock = options.clock ?? Date.now
    this.#onError =
      options.onError ??
      ((err: unknown) => {
        throw err
      })
    this.#maxBatch = options.maxBatch ?? 2_000
    this.#useTimer = options.timer ?? true
  }

  get size(): number {
    return this.#heap.length
  }

  now(): number {
    return this.#clock()
  }

  schedule(item: Timed, atMs: number): void {
    if (this.#closed) return
    const heap = this.#heap
    if (item.heapIndex >= 0 && heap[item.heapIndex] === item) {
      const before = item.dueAt
      item.dueAt = atMs
      if (atMs < before) this.#up(item.heapIndex)
      else this.#down(item.heapIndex)
    } else {
      item.dueAt = atMs
      item.heapIndex = heap.length
      heap.push(item)
      this.#up(item.heapIndex)
    }
    // Arm only when the new item comes before the armed time: a later one is found when the
    // timer fires, so a fleet rescheduling thousands of items never churns setTimeout.
    if (atMs < this.#armedAt) this.#arm()
  }

  cancel(item: Timed): void {
    const heap = this.#heap
    const at = item.heapIndex
    if (at < 0 || heap[at] !== item) {
      item.heapIndex = -1
      return
    }
    const last = heap.pop() as Timed
    item.heapIndex = -1
    if (last !== item) {
      heap[at] = last
      last.heapIndex = at
      this.#up(at)
      this.#down(last.heapIndex)
    }
  }

  runDue(now: number = this.#clock()): number {
    const heap = this.#heap
    let fired = 0
    while (fired < this.#maxBatch && !this.#closed) {
      const top = heap[0]
      if (top === undefined || top.dueAt > now) break
      this.cancel(top)
      fired++
      try {
        top.fire(now)
      } catch (err) {
        this.#onError(err)
      }
    }
    return fired
  }

  close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
    for (const item of this.#heap) item.heapIndex = -1
    this.#heap.length = 0
    return Promise.resolve()
  }

  #arm(): void {
    if (!this.#useTimer || this.#closed) return
    const top = this.#heap[0]
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (top === undefined) {
      this.#armedAt = Number.POSITIVE_INFINITY
      return
    }
    this.#armedAt = top.dueAt
    const delay = Math.min(maxDelayMs, Math.max(0, top.dueAt - this.#clock()))
    this.#timer = setTimeout(this.#onTimer, delay)
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
    const fired = this.runDue()
    if (this.#closed) return
    // A full batch yields to I/O with a zero-delay timer; otherwise the next item decides.
    if (fired >= this.#maxBatch) {
      this.#armedAt = this.#clock()
      this.#timer = setTimeout(this.#onTimer, 0)
    } else this.#arm()
  }

  #up(at: number): void {
    const heap = this.#heap
    const item = heap[at] as Timed
    while (at > 0) {
      const parentAt = (at - 1) >> 1
      const parent = heap[parentAt] as Timed
      if (parent.dueAt <= item.dueAt) break
      heap[at] = parent
      parent.heapIndex = at
      at = parentAt
    }
    heap[at] = item
    item.heapIndex = at
  }

  #down(at: number): void {
    const heap = this.#heap
    const n = heap.length
    const item = heap[at] as Timed
    for (;;) {
      const left = 2 * at + 1
      if (left >= n) break
      const right = left + 1
      const child =
        right < n && (heap[right] as Timed).dueAt < (heap[left] as Timed).dueAt ? right : left
      const next = heap[child] as Timed
      if (next.dueAt >= item.dueAt) break
      heap[at] = next
      next.heapIndex = at
      at = child
    }
    heap[at] = item
    item.heapIndex = at
  }
}
