import type { AmqpTarget, DeliveryTarget, NatsTarget, WebhookTarget } from './delivery-target.js'

/** One attempt to deliver one message, as the outbox hands it to a sender. */
export interface Delivery<T extends DeliveryTarget = DeliveryTarget> {
  /** The message's stable id: the same on every attempt, for receivers to drop duplicates. */
  readonly id: string
  readonly target: T
  /** The message as JSON text, sent as is. */
  readonly body: string
  /** 1 for the first attempt. */
  readonly attempt: number
  /** When the message was queued (epoch ms). */
  readonly createdAt: number
}

/**
 * Delivers messages to one kind of target. `send` resolves once the receiver has the message
 * (a 2xx, a broker confirm, a flush) and rejects otherwise, with a `CLOUD_DELIVERY_FAILED`
 * whose `retryable` says whether to try again; it stops when `signal` aborts.
 */
export interface DeliverySender<T extends DeliveryTarget> {
  send(delivery: Delivery<T>, signal: AbortSignal): Promise<void>
  /** Closes the sender's connections; idempotent. */
  close(): Promise<void>
}

/** A sender for every kind of target. */
export interface DeliverySenders {
  readonly webhook: DeliverySender<WebhookTarget>
  readonly amqp: DeliverySender<AmqpTarget>
  readonly nats: DeliverySender<NatsTarget>
}

/** Sends a delivery with the sender for its target's type. */
export function sendWith(
  senders: DeliverySenders,
  delivery: Delivery,
  signal: AbortSignal,
): Promise<void> {
  const { target } = delivery
  switch (target.type) {
    case 'webhook':
      return senders.webhook.send({ ...delivery, target }, signal)
    case 'amqp':
      return senders.amqp.send({ ...delivery, target }, signal)
    case 'nats':
      return senders.nats.send({ ...delivery, target }, signal)
  }
}
