import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { CloudError, notFound } from '../../errors.js'
import { createAmqpSender } from './amqp-sender.js'
import { parseDeliveryTarget } from './check-target.js'
import {
  type DeadLetter,
  type DeadLetterQuery,
  listDeadLetters,
  purgeDeadLetters,
} from './dead-letters.js'
import { DeliveryLoop } from './delivery-loop.js'
import type { DeliverySenders } from './delivery-sender.js'
import type { DeliveryTarget, DeliveryTargetType } from './delivery-target.js'
import { createNatsSender } from './nats-sender.js'
import {
  defaultOutboxOptions,
  type DeliveryMetrics,
  type OutboxDeps,
  type OutboxOptions,
} from './outbox-options.js'
import { OutboxStore } from './outbox-store.js'
import { targetKeyOf } from './target-identity.js'
import { createWebhookSender } from './webhook-sender.js'

/** One message for one target. */
export interface EnqueueRequest {
  /** Where to send it; checked as {@link parseDeliveryTarget} does (no DNS here). */
  readonly target: DeliveryTarget
  /** Any JSON value; sent as its JSON text. */
  readonly message: unknown
  /**
   * The delivery id receivers dedupe by (`[A-Za-z0-9._:-]{1,128}`); a random UUID when absent.
   * Give one derived from what caused the message (rule id + event id) and a re-run of the same
   * cause is queued once: an id already queued is not queued twice.
   */
  readonly id?: string
}

export interface OutboxStats {
  /** Messages in the outbox, in flight included. */
  readonly queued: number
  readonly inFlight: number
  readonly deadLetters: number
}

interface ParsedTarget {
  readonly type: DeliveryTargetType
  readonly key: string
  readonly json: string
}

const idPattern = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Opens (creating when absent) the outbox at `deps.path` and starts delivering what it holds,
 * including messages a previous process took but never confirmed (at least once).
 *
 * @example
 * const outbox = openOutbox({ path: join(dataDir, 'delivery.db'), logger })
 * outbox.enqueue({ target: rule.action.target, message: { rule: rule.id, value } })
 * await outbox.close()
 */
export function openOutbox(deps: OutboxDeps, options: Partial<OutboxOptions> = {}): Outbox {
  return new Outbox(deps, { ...defaultOutboxOptions, ...options })
}

/**
 * A durable queue of rule actions that leave the node (webhooks, AMQP, NATS). `enqueue` is
 * synchronous and never waits on the network; a loop delivers in the background, retries with
 * backoff and dead-letters what cannot be delivered. Delivery is at least once: receivers dedupe
 * by the message id. See docs/rule-actions.md.
 */
export class Outbox implements AsyncDisposable {
  readonly #store: OutboxStore
  readonly #loop: DeliveryLoop
  readonly #senders: DeliverySenders
  readonly #options: OutboxOptions
  readonly #log: Logger | undefined
  readonly #metrics: DeliveryMetrics
  readonly #clock: () => number
  readonly #parsed = new WeakMap<object, ParsedTarget>()
  #closing: Promise<void> | undefined

  constructor(deps: OutboxDeps, options: OutboxOptions) {
    this.#options = options
    this.#log = deps.logger?.child({ component: 'delivery' })
    this.#metrics = deps.metrics ?? {}
    this.#clock = deps.clock ?? Date.now
    this.#store = new OutboxStore(deps.path, (err) => {
      this.#log?.error({ err }, 'outbox commit failed; the messages queued in that turn are lost')
    })
    const recovered = this.#store.recoverTaken()
    if (recovered > 0) {
      this.#log?.warn(
        { recovered },
        'redelivering messages a previous run took but never confirmed',
      )
    }
    const policy = { allowPrivateNetworks: options.allowPrivateNetworks }
    const resolve = deps.resolve === undefined ? {} : { resolve: deps.resolve }
    const broker = {
      connectTimeoutMs: options.connectTimeoutMs,
      publishTimeoutMs: options.brokerTimeoutMs,
    }
    this.#senders = {
      webhook:
        deps.senders?.webhook ?? createWebhookSender({ policy, clock: this.#clock, ...resolve }),
      amqp:
        deps.senders?.amqp ??
        createAmqpSender({ policy, clock: this.#clock, logger: this.#log, ...resolve }, broker),
      nats:
        deps.senders?.nats ?? createNatsSender({ policy, logger: this.#log, ...resolve }, broker),
    }
    this.#loop = new DeliveryLoop(this.#store, this.#senders, options, {
      logger: this.#log,
      metrics: this.#metrics,
      clock: this.#clock,
      random: deps.random ?? Math.random,
    })
    this.#loop.start()
  }

  /**
   * Queues a message and returns its id, synchronously: one INSERT, committed with the others
   * of this event-loop turn. Throws `CLOUD_DELIVERY_QUEUE_FULL` when the outbox holds
   * `maxEntries` (count it; nothing was queued), `CLOUD_DELIVERY_TARGET_INVALID`,
   * `CLOUD_DELIVERY_MESSAGE_INVALID` or `CLOUD_DELIVERY_CLOSED`. A target object is checked
   * once and remembered: treat targets as immutable.
   */
  enqueue(request: EnqueueRequest): string {
    let type: DeliveryTargetType | 'unknown' = 'unknown'
    try {
      if (this.#closing !== undefined) {
        throw new CloudError('CLOUD_DELIVERY_CLOSED', 'the delivery outbox is closed', {
          hint: 'Queue actions before the node stops.',
        })
      }
      const target = this.#parse(request.target)
      type = target.type
      const id = request.id ?? randomUUID()
      const body = this.#body(request.message, id)
      if (this.#store.rows >= this.#options.maxEntries) {
        throw new CloudError(
          'CLOUD_DELIVERY_QUEUE_FULL',
          `the delivery outbox holds ${String(this.#store.rows)} messages, its limit; message ${id} was refused`,
          {
            hint: 'A target is failing or slow: look at the dead letters and the delivery metrics, or raise maxEntries.',
            retryable: true,
            details: { limit: this.#options.maxEntries },
          },
        )
      }
      if (this.#store.insert(id, target.key, target.json, body, this.#clock())) {
        this.#count(() => this.#metrics.enqueued?.(target.type))
        this.#loop.notify(target.key)
      }
      return id
    } catch (err) {
      if (err instanceof CloudError) this.#count(() => this.#metrics.refused?.(type, err.code))
      throw err
    }
  }

  /** Dead letters, oldest first, targets redacted. */
  listDeadLetters(query: DeadLetterQuery = {}): DeadLetter[] {
    this.#assertOpen()
    return listDeadLetters(this.#store.db, query)
  }

  /**
   * Queues a dead letter again as a fresh message (same id, attempts and age reset). Throws
   * `CLOUD_NOT_FOUND` when there is no such dead letter, `CLOUD_DELIVERY_QUEUE_FULL` when the
   * outbox is full.
   */
  retryDeadLetter(id: string): void {
    this.#assertOpen()
    if (this.#store.rows >= this.#options.maxEntries) {
      throw new CloudError(
        'CLOUD_DELIVERY_QUEUE_FULL',
        `the delivery outbox is full; ${id} stays dead`,
        {
          hint: 'Retry it when the outbox has drained.',
          retryable: true,
        },
      )
    }
    const key = this.#store.requeueDead(id, this.#clock())
    if (key === undefined) throw notFound('dead letter', id)
    this.#loop.notify(key)
  }

  /** Deletes the dead letters that died before `before` (epoch ms), or all; returns how many. */
  purgeDeadLetters(options: { readonly before?: number } = {}): number {
    this.#assertOpen()
    return purgeDeadLetters(this.#store.db, options.before)
  }

  stats(): OutboxStats {
    this.#assertOpen()
    return {
      queued: this.#store.rows,
      inFlight: this.#loop.inFlight,
      deadLetters: this.#store.countDead(),
    }
  }

  /**
   * Stops delivering: waits up to `drainTimeoutMs` (default: the option) for deliveries in
   * flight, abandons the rest (they are delivered again after the next open), closes broker
   * connections and the file. Idempotent.
   */
  close(options: { readonly drainTimeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      this.#store.flush()
      await this.#loop.stop(options.drainTimeoutMs ?? this.#options.drainTimeoutMs)
      await Promise.all([
        this.#senders.webhook.close(),
        this.#senders.amqp.close(),
        this.#senders.nats.close(),
      ])
      this.#store.close()
    })()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #parse(target: DeliveryTarget): ParsedTarget {
    const cached = typeof target === 'object' ? this.#parsed.get(target) : undefined
    if (cached !== undefined) return cached
    const checked = parseDeliveryTarget(target, {
      allowPrivateNetworks: this.#options.allowPrivateNetworks,
    })
    const parsed = { type: checked.type, key: targetKeyOf(checked), json: JSON.stringify(checked) }
    if (typeof target === 'object') this.#parsed.set(target, parsed)
    return parsed
  }

  #body(message: unknown, id: string): string {
    if (!idPattern.test(id)) {
      throw new CloudError(
        'CLOUD_DELIVERY_MESSAGE_INVALID',
        `delivery id ${JSON.stringify(id)} is malformed`,
        {
          hint: 'Use 1 to 128 of A-Z a-z 0-9 . _ : -',
        },
      )
    }
    let body: unknown
    try {
      // undefined for undefined, functions and symbols, whatever the lib types say
      body = JSON.stringify(message)
    } catch (err) {
      throw new CloudError(
        'CLOUD_DELIVERY_MESSAGE_INVALID',
        `message ${id} is not JSON: ${String(err)}`,
        {
          hint: 'Send plain objects, arrays, strings, numbers, booleans and null.',
          cause: err,
        },
      )
    }
    if (typeof body !== 'string') {
      throw new CloudError('CLOUD_DELIVERY_MESSAGE_INVALID', `message ${id} is not a JSON value`, {
        hint: 'Send plain objects, arrays, strings, numbers, booleans and null.',
      })
    }
    const bytes = Buffer.byteLength(body)
    if (bytes > this.#options.maxMessageBytes) {
      throw new CloudError(
        'CLOUD_DELIVERY_MESSAGE_INVALID',
        `message ${id} is ${String(bytes)} bytes of JSON; the limit is ${String(this.#options.maxMessageBytes)}`,
        { hint: 'Send less: a reference to the data rather than the data.' },
      )
    }
    return body
  }

  #count(record: () => void): void {
    try {
      record()
    } catch (err) {
      this.#log?.warn({ err }, 'a delivery metrics callback threw')
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new CloudError('CLOUD_DELIVERY_CLOSED', 'the delivery outbox is closed')
    }
  }
}
