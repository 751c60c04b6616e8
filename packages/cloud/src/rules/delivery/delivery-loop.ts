import { decoder } from '@strata/protocol'
import type { Logger } from 'pino'
import type { CloudError } from '../../errors.js'
import {
  asDeliveryFailure,
  deliveryFailed,
  errorRecordOf,
  retryAfterOf,
} from './delivery-failure.js'
import { sendWith, type DeliverySenders } from './delivery-sender.js'
import { DeliveryTarget } from './delivery-target.js'
import type { DeadLetterReason, DeliveryMetrics, OutboxOptions } from './outbox-options.js'
import type { OutboxRow, OutboxStore } from './outbox-store.js'
import { retryDelayMs } from './retry-backoff.js'
import { targetLabelOf } from './target-identity.js'

/** What the loop knows of one target while it has messages. */
interface TargetState {
  inFlight: number
  /** Failed attempts in a row; a success resets it. */
  failures: number
  /** While the target fails, no new attempt starts before this (epoch ms). */
  pausedUntil: number
  /** When its next queued message is due: 0 when unknown, Infinity when it has none queued. */
  nextDueAt: number
}

interface InFlight {
  readonly controller: AbortController
  readonly done: Promise<void>
}

/** The longest the loop sleeps without looking at the queue, whatever it expects. */
const maxSleepMs = 30_000

const decodeTarget = decoder(DeliveryTarget)

/**
 * Takes due messages target by target (round robin, so one busy target never starves the
 * others), delivers them with a global and a per-target concurrency limit, and settles each
 * attempt in the store: delete when delivered, reschedule with jittered exponential backoff
 * when it may be retried, dead-letter when it may not or after `maxAttempts` or `maxAgeMs`.
 * A target whose attempts fail is paused with the same backoff (a circuit breaker), so a dead
 * receiver sees a few probes, not the whole backlog each round.
 */
export class DeliveryLoop {
  readonly #store: OutboxStore
  readonly #senders: DeliverySenders
  readonly #options: OutboxOptions
  readonly #log: Logger | undefined
  readonly #metrics: DeliveryMetrics
  readonly #clock: () => number
  readonly #random: () => number
  readonly #targets = new Map<string, TargetState>()
  readonly #inFlight = new Map<number, InFlight>()
  #scheduled = false
  #timer: NodeJS.Timeout | undefined
  #stopping = false

  constructor(
    store: OutboxStore,
    senders: DeliverySenders,
    options: OutboxOptions,
    deps: {
      logger: Logger | undefined
      metrics: DeliveryMetrics
      clock: () => number
      random: () => number
    },
  ) {
    this.#store = store
    this.#senders = senders
    this.#options = options
    this.#log = deps.logger
    this.#metrics = deps.metrics
    this.#clock = deps.clock
    this.#random = deps.random
    for (const key of store.targetKeys()) this.#stateOf(key)
  }

  get inFlight(): number {
    return this.#inFlight.size
  }

  /** Starts delivering what the outbox holds. */
  start(): void {
    this.#schedule()
  }

  /** A message was queued for `key`: look at the queue at the end of this turn. */
  notify(key: string): void {
    this.#stateOf(key).nextDueAt = 0
    this.#schedule()
  }

  /**
   * Stops starting attempts, waits up to `drainTimeoutMs` for those in flight, then aborts the
   * rest: they stay in the outbox, uncounted, and are delivered again on the next start.
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    const all = (): Promise<unknown> => Promise.all([...this.#inFlight.values()].map((f) => f.done))
    if (this.#inFlight.size > 0 && drainTimeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        all(),
        new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
      ])
      clearTimeout(timer)
    }
    for (const flight of this.#inFlight.values()) flight.controller.abort()
    await all()
  }

  #stateOf(key: string): TargetState {
    let state = this.#targets.get(key)
    if (state === undefined) {
      state = { inFlight: 0, failures: 0, pausedUntil: 0, nextDueAt: 0 }
      this.#targets.set(key, state)
    }
    return state
  }

  #schedule(): void {
    if (this.#scheduled || this.#stopping) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#pump()
    })
  }

  #pump(): void {
    if (this.#stopping) return
    clearTimeout(this.#timer)
    const now = this.#clock()
    let free = this.#options.concurrency - this.#inFlight.size
    let wake = now + maxSleepMs
    // Round robin: the target served first this time goes last next time.
    const targets = [...this.#targets]
    const head = targets[0]
    if (head !== undefined) {
      this.#targets.delete(head[0])
      this.#targets.set(head[0], head[1])
    }
    for (const [key, state] of targets) {
      if (free <= 0) break // a finishing attempt pumps again
      if (state.nextDueAt === Infinity && state.inFlight === 0) {
        this.#targets.delete(key) // nothing queued, nothing in flight
        continue
      }
      // Known from memory when the target has nothing due: no query for idle targets.
      const readyAt = Math.max(state.pausedUntil, state.nextDueAt)
      if (readyAt > now) {
        if (readyAt !== Infinity) wake = Math.min(wake, readyAt)
        continue
      }
      const slots = Math.min(free, this.#options.perTargetConcurrency - state.inFlight)
      if (slots <= 0) continue
      const rows = this.#store.take(key, now, slots)
      for (const row of rows) this.#start(row, state)
      free -= rows.length
      if (rows.length < slots) {
        state.nextDueAt = this.#store.nextDue(key) ?? Infinity
        if (state.nextDueAt !== Infinity) wake = Math.min(wake, state.nextDueAt)
      }
    }
    if (free > 0) {
      this.#timer = setTimeout(() => this.#schedule(), Math.max(0, wake - now))
      this.#timer.unref()
    }
  }

  #start(row: OutboxRow, state: TargetState): void {
    const controller = new AbortController()
    state.inFlight++
    const done = this.#attempt(row, state, controller.signal)
      .catch((err: unknown) => {
        // Only a store failure lands here (the attempt itself settles every outcome).
        this.#log?.error({ err, id: row.id }, 'delivery bookkeeping failed')
      })
      .finally(() => {
        state.inFlight--
        this.#inFlight.delete(row.seq)
        this.#schedule()
      })
    this.#inFlight.set(row.seq, { controller, done })
  }

  async #attempt(row: OutboxRow, state: TargetState, signal: AbortSignal): Promise<void> {
    const now = this.#clock()
    let target: DeliveryTarget
    try {
      target = decodeTarget(JSON.parse(row.target), 'outbox target')
    } catch (err) {
      const failure = deliveryFailed(`the queued target is unreadable: ${String(err)}`, {
        retryable: false,
        cause: err,
      })
      // The type is unknown; 'webhook' only labels the metric.
      this.#deadLetter(row, 'webhook', 'permanent', failure)
      return
    }
    if (now - row.created_at >= this.#options.maxAgeMs && row.attempts > 1) {
      this.#deadLetter(row, target.type, 'expired', row.last_error ?? '{}', row.attempts - 1)
      return
    }
    const started = performance.now()
    try {
      const delivery = {
        id: row.id,
        target,
        body: row.body,
        attempt: row.attempts,
        createdAt: row.created_at,
      }
      await sendWith(this.#senders, delivery, signal)
    } catch (err) {
      if (signal.aborted && this.#stopping) {
        this.#store.release(row.seq)
        return
      }
      this.#failed(row, target, state, asDeliveryFailure(err), performance.now() - started)
      return
    }
    this.#store.complete(row.seq)
    if (state.failures > 0) {
      this.#log?.info({ target: targetLabelOf(target) }, 'delivery target recovered')
    }
    state.failures = 0
    state.pausedUntil = 0
    this.#count(() =>
      this.#metrics.attempted?.(target.type, 'delivered', performance.now() - started),
    )
    this.#log?.debug({ id: row.id, target: targetLabelOf(target) }, 'delivered')
  }

  #failed(
    row: OutboxRow,
    target: DeliveryTarget,
    state: TargetState,
    failure: CloudError,
    durationMs: number,
  ): void {
    const now = this.#clock()
    const type = target.type
    const label = targetLabelOf(target)
    if (!failure.retryable) {
      this.#count(() => this.#metrics.attempted?.(type, 'failed', durationMs))
      this.#deadLetter(row, type, 'permanent', failure)
      return
    }
    this.#count(() => this.#metrics.attempted?.(type, 'retry', durationMs))
    if (row.attempts >= this.#options.maxAttempts) {
      this.#deadLetter(row, type, 'attempts', failure)
      return
    }
    if (now - row.created_at >= this.#options.maxAgeMs) {
      this.#deadLetter(row, type, 'expired', failure)
      return
    }
    const retryAfter = retryAfterOf(failure)
    const floor = Math.min(retryAfter ?? 0, this.#options.maxRetryAfterMs)
    const delay = Math.max(retryDelayMs(row.attempts, this.#options.backoff, this.#random), floor)
    this.#store.reschedule(row.seq, now + delay, JSON.stringify(errorRecordOf(failure)))
    state.nextDueAt = Math.min(state.nextDueAt, now + delay)
    // Pause the target; failures that arrive while it is paused (the other attempts that were
    // in flight) do not lengthen the pause again.
    if (state.pausedUntil <= now) {
      state.failures++
      const pause = retryDelayMs(state.failures, this.#options.backoff, this.#random)
      state.pausedUntil = now + Math.max(pause, floor)
      if (state.failures === 1) {
        this.#log?.warn(
          { target: label, err: failure.message },
          'delivery target failing; pausing it',
        )
      }
    }
    this.#log?.debug(
      { id: row.id, target: label, attempt: row.attempts, retryInMs: delay, err: failure.message },
      'delivery failed; will retry',
    )
  }

  /** Moves the entry to the dead letters with `error` (a failure, or the last one recorded). */
  #deadLetter(
    row: OutboxRow,
    type: DeliveryTarget['type'],
    reason: DeadLetterReason,
    error: CloudError | string,
    attempts = row.attempts,
  ): void {
    if (typeof error !== 'string') error = JSON.stringify(errorRecordOf(error))
    const dropped = this.#store.deadLetter(
      row.seq,
      this.#clock(),
      attempts,
      error,
      this.#options.maxDeadLetters,
    )
    this.#count(() => this.#metrics.deadLettered?.(type, reason))
    if (dropped > 0) this.#count(() => this.#metrics.deadLettersDropped?.(dropped))
    this.#log?.warn({ id: row.id, reason, attempts, error, dropped }, 'delivery dead-lettered')
  }

  #count(record: () => void): void {
    try {
      record()
    } catch (err) {
      this.#log?.warn({ err }, 'a delivery metrics callback threw')
    }
  }
}
