import type { Logger } from 'pino'
import Type from 'typebox'
import type { CloudErrorCode } from '../../errors.js'
import type { ResolveHost } from './address-policy.js'
import type { DeliverySenders } from './delivery-sender.js'
import type { DeliveryTargetType } from './delivery-target.js'
import { defaultRetryBackoffOptions, type RetryBackoffOptions } from './retry-backoff.js'

/** How the outbox queues, paces, retries and gives up. */
export interface OutboxOptions {
  /** Messages the outbox holds at most (queued and in flight); beyond it `enqueue` refuses. */
  readonly maxEntries: number
  /** Dead letters kept at most; beyond it the oldest are dropped (and counted). */
  readonly maxDeadLetters: number
  /** The largest message, as JSON, in bytes. */
  readonly maxMessageBytes: number
  /** Attempts per message before it is dead-lettered. */
  readonly maxAttempts: number
  /** A message still undelivered this long after it was queued is dead-lettered. */
  readonly maxAgeMs: number
  /** The wait between attempts of one message, and the pause of a failing target. */
  readonly backoff: RetryBackoffOptions
  /** A receiver's `Retry-After` is honoured up to this. */
  readonly maxRetryAfterMs: number
  /** Deliveries in flight at once, all targets together. */
  readonly concurrency: number
  /** Deliveries in flight at once to one target. */
  readonly perTargetConcurrency: number
  /** How long opening a broker connection may take. */
  readonly connectTimeoutMs: number
  /** How long one AMQP or NATS publish may take, confirm or flush included. */
  readonly brokerTimeoutMs: number
  /** How long `close()` waits for deliveries in flight before it abandons them. */
  readonly drainTimeoutMs: number
  /**
   * Let targets reach loopback, link-local and private addresses. Off by default: tenants
   * configure targets, and the node's own network is not theirs to reach (SSRF).
   */
  readonly allowPrivateNetworks: boolean
}

export const defaultOutboxOptions: OutboxOptions = {
  maxEntries: 100_000,
  maxDeadLetters: 10_000,
  maxMessageBytes: 256 * 1024,
  maxAttempts: 25,
  maxAgeMs: 24 * 3_600_000,
  backoff: defaultRetryBackoffOptions,
  maxRetryAfterMs: 3_600_000,
  concurrency: 32,
  perTargetConcurrency: 4,
  connectTimeoutMs: 5_000,
  brokerTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  allowPrivateNetworks: false,
}

const positive = (maximum: number) => Type.Optional(Type.Integer({ minimum: 1, maximum }))

/** {@link OutboxOptions} as the node's config gives them: every field optional. */
export const OutboxOptionsSchema = Type.Object(
  {
    maxEntries: positive(100_000_000),
    maxDeadLetters: positive(10_000_000),
    maxMessageBytes: positive(16 * 1024 * 1024),
    maxAttempts: positive(1_000),
    maxAgeMs: positive(30 * 86_400_000),
    backoff: Type.Optional(
      Type.Object(
        {
          initialMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
          maxMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
          factor: Type.Number({ minimum: 1, maximum: 10 }),
        },
        { additionalProperties: false },
      ),
    ),
    maxRetryAfterMs: positive(86_400_000),
    concurrency: positive(10_000),
    perTargetConcurrency: positive(1_000),
    connectTimeoutMs: positive(600_000),
    brokerTimeoutMs: positive(600_000),
    drainTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    allowPrivateNetworks: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'OutboxOptions' },
)

/** How one delivery attempt ended. */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed'

/** Why a message went to the dead letters. */
export type DeadLetterReason = 'permanent' | 'attempts' | 'expired'

/**
 * Counters for the node to wire to prom-client. Called on the delivery path: each must return
 * at once; one that throws is logged and ignored.
 */
export interface DeliveryMetrics {
  /** `enqueue` accepted a message. */
  readonly enqueued?: (type: DeliveryTargetType) => void
  /** `enqueue` refused a message (`CLOUD_DELIVERY_QUEUE_FULL`, an invalid target or message…). */
  readonly refused?: (type: DeliveryTargetType | 'unknown', code: CloudErrorCode) => void
  /** One attempt ended: delivered, failed to be retried, or failed for good. */
  readonly attempted?: (
    type: DeliveryTargetType,
    outcome: AttemptOutcome,
    durationMs: number,
  ) => void
  /** A message went to the dead letters. */
  readonly deadLettered?: (type: DeliveryTargetType, reason: DeadLetterReason) => void
  /** Dead letters dropped, oldest first, to stay within `maxDeadLetters`. */
  readonly deadLettersDropped?: (count: number) => void
}

/** What an outbox is built from. */
export interface OutboxDeps {
  /** The SQLite file (`DATA/delivery.db`); created when absent. */
  readonly path: string
  readonly logger?: Logger
  readonly metrics?: DeliveryMetrics
  /** Epoch ms; `Date.now` by default. */
  readonly clock?: () => number
  /** In [0, 1), for backoff jitter; `Math.random` by default. */
  readonly random?: () => number
  /** Replaces the built-in senders (tests, other transports). */
  readonly senders?: Partial<DeliverySenders>
  /** Resolves host names for the address policy; `dns.lookup` by default. */
  readonly resolve?: ResolveHost
}
