// The two ways the load generator publishes. Closed loop: as fast as the broker delivers, with a
// bounded number of messages between publishers and subscribers (and, at QoS 1, a bounded PUBACK
// window per publisher), so neither broker can be flooded into dropping or queueing without end.
// Fixed rate: a set number of messages per second whatever the broker does, for latency.
import type { DeliverySink, LoadClient, PublishTemplate } from './load.js'

/** A sink that counts deliveries and keeps the latency of messages sent inside a time window. */
export class CountingSink implements DeliverySink {
  delivered = 0
  onProgress: (() => void) | null = null
  private readonly samples: Float64Array
  private count = 0
  private readonly roundEnds: number[] = []
  private fromMs = Number.POSITIVE_INFINITY
  private toMs = Number.POSITIVE_INFINITY

  constructor(maxSamples: number) {
    this.samples = new Float64Array(maxSamples)
  }

  /** Keep latencies of messages sent in [fromMs, toMs), added to those of earlier windows. */
  recordWindow(fromMs: number, toMs: number): void {
    this.fromMs = fromMs
    this.toMs = toMs
  }

  record(sentAtMs: number, nowMs: number): void {
    if (sentAtMs < this.fromMs || sentAtMs >= this.toMs) return
    if (this.count < this.samples.length) this.samples[this.count] = nowMs - sentAtMs
    this.count += 1
  }

  progress(): void {
    this.onProgress?.()
  }

  /** Messages seen in the recorded windows (also those beyond the sample capacity). */
  get seen(): number {
    return this.count
  }

  /** Marks the end of a measured round: latencies after this belong to the next one. */
  endRound(): void {
    this.roundEnds.push(Math.min(this.count, this.samples.length))
  }

  /** The q-quantile of each round's latencies (rounds without samples are left out). */
  roundQuantiles(q: number): number[] {
    const out: number[] = []
    let start = 0
    for (const end of this.roundEnds) {
      if (end > start) out.push(quantile(this.samples.slice(start, end).sort(), q))
      start = end
    }
    return out
  }

  /** Latencies recorded so far (ms), sorted; `seen` counts also those beyond capacity. */
  latencies(): { sorted: Float64Array; seen: number } {
    const kept = this.samples.slice(0, Math.min(this.count, this.samples.length))
    return { sorted: kept.sort(), seen: this.count }
  }
}

/** The median of some numbers (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length / 2
  if (sorted.length === 0) return Number.NaN
  if (sorted.length % 2 === 1) return sorted[Math.floor(mid)] ?? Number.NaN
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
}

/** The q-quantile (0..1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}

export interface ClosedLoopOptions {
  readonly publishers: readonly LoadClient[]
  readonly sink: CountingSink
  readonly template: PublishTemplate
  /** Deliveries each published message leads to (subscribers of the topic). */
  readonly fanout: number
  /** Messages published and not yet delivered to every subscriber, at most. */
  readonly windowMsgs: number
  /** Messages per write, at most. */
  readonly batchMax: number
  /** QoS 1 publishes per publisher awaiting PUBACK, at most. */
  readonly maxInflight: number
}

const stallCheckMs = 250

export class ClosedLoopDriver {
  /** Messages published. */
  sent = 0
  /** Messages given up as lost after deliveries stalled with messages outstanding. */
  lost = 0
  private readonly options: ClosedLoopOptions
  private running = false
  private scheduled = false
  private next = 0
  private stallTimer: NodeJS.Timeout | null = null
  private lastDelivered = -1

  constructor(options: ClosedLoopOptions) {
    this.options = options
  }

  start(): void {
    this.running = true
    const wake = (): void => this.schedule()
    this.options.sink.onProgress = wake
    for (const publisher of this.options.publishers) publisher.onWake = wake
    this.stallTimer = setInterval(() => this.checkStall(), stallCheckMs)
    this.schedule()
  }

  stop(): void {
    this.running = false
    if (this.stallTimer !== null) clearInterval(this.stallTimer)
    this.options.sink.onProgress = null
    for (const publisher of this.options.publishers) publisher.onWake = null
  }

  /** Messages published but not yet delivered to all subscribers (lost ones excluded). */
  outstanding(): number {
    const { sink, fanout } = this.options
    return this.sent - this.lost - Math.floor(sink.delivered / fanout)
  }

  // Coalesces the many wake-ups of one event-loop turn into one pump.
  private schedule(): void {
    if (this.scheduled || !this.running) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.running) this.pump()
    })
  }

  private pump(): void {
    const { publishers, template, windowMsgs, batchMax, maxInflight } = this.options
    let credit = windowMsgs - this.outstanding()
    for (let k = 0; k < publishers.length && credit > 0; k += 1) {
      this.next = (this.next + 1) % publishers.length
      const publisher = publishers[this.next]
      if (publisher === undefined || publisher.blocked || publisher.failure !== null) continue
      const room = template.qos === 1 ? maxInflight - publisher.inflight : batchMax
      const count = Math.min(batchMax, credit, room)
      if (count <= 0) continue
      publisher.publishBatch(template, count, performance.now())
      this.sent += count
      credit -= count
    }
  }

  // A QoS 0 message the broker dropped would hold its window slot for ever: after a quarter
  // second without any delivery, count what is outstanding as lost and carry on.
  private checkStall(): void {
    const delivered = this.options.sink.delivered
    if (delivered === this.lastDelivered && this.outstanding() > 0) {
      this.lost += this.outstanding()
      this.schedule()
    }
    this.lastDelivered = delivered
  }
}

/** Publishes `ratePerS` messages per second in total, spread over the publishers, every ms. */
export class FixedRateDriver {
  sent = 0
  /** Messages stamped inside the window set by `countWindow`. */
  sentInWindow = 0
  private windowFromMs = Number.POSITIVE_INFINITY
  private windowToMs = Number.POSITIVE_INFINITY
  private readonly publishers: readonly LoadClient[]
  private readonly template: PublishTemplate
  private readonly ratePerS: number
  private timer: NodeJS.Timeout | null = null
  private startMs = 0
  private sentAtStart = 0
  private next = 0

  constructor(publishers: readonly LoadClient[], template: PublishTemplate, ratePerS: number) {
    this.publishers = publishers
    this.template = template
    this.ratePerS = ratePerS
  }

  /** Starts (or restarts) the schedule from now. */
  start(): void {
    this.startMs = performance.now()
    this.sentAtStart = this.sent
    this.timer = setInterval(() => this.tick(), 1)
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Count messages sent in [fromMs, toMs) (the window a CountingSink records) from now on. */
  countWindow(fromMs: number, toMs: number): void {
    this.windowFromMs = fromMs
    this.windowToMs = toMs
  }

  // Sends what the schedule says is due by now; a late timer sends a larger batch, so the rate
  // holds and the lateness shows up as latency, as it would for a real client.
  private tick(): void {
    const now = performance.now()
    const scheduled = Math.floor(((now - this.startMs) * this.ratePerS) / 1000)
    const due = scheduled - (this.sent - this.sentAtStart)
    if (due <= 0) return
    const perPublisher = Math.ceil(due / this.publishers.length)
    let left = due
    for (let k = 0; k < this.publishers.length && left > 0; k += 1) {
      this.next = (this.next + 1) % this.publishers.length
      const publisher = this.publishers[this.next]
      if (publisher === undefined || publisher.failure !== null) continue
      const count = Math.min(perPublisher, left)
      publisher.publishBatch(this.template, count, now)
      this.sent += count
      left -= count
    }
    if (now >= this.windowFromMs && now < this.windowToMs) this.sentInWindow += due - left
  }
}
