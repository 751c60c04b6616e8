// The delivery layer of rule actions that leave the node: what the rules service imports.
export {
  type AddressPolicy,
  assertHostAllowed,
  isPublicAddress,
  type ResolveHost,
} from './address-policy.js'
export { checkDeliveryTarget, parseDeliveryTarget } from './check-target.js'
export type { DeadLetter, DeadLetterQuery } from './dead-letters.js'
export type { DeliveryErrorRecord } from './delivery-failure.js'
export type { Delivery, DeliverySender, DeliverySenders } from './delivery-sender.js'
export {
  AmqpTarget,
  DeliveryTarget,
  type DeliveryTargetType,
  deliveryTargetTypes,
  NatsTarget,
  WebhookTarget,
} from './delivery-target.js'
export { type EnqueueRequest, openOutbox, Outbox, type OutboxStats } from './outbox.js'
export {
  type AttemptOutcome,
  type DeadLetterReason,
  defaultOutboxOptions,
  type DeliveryMetrics,
  type OutboxDeps,
  type OutboxOptions,
  OutboxOptionsSchema,
} from './outbox-options.js'
export {
  defaultRetryBackoffOptions,
  type RetryBackoffOptions,
  retryDelayMs,
} from './retry-backoff.js'
export { redactTarget, targetKeyOf, targetLabelOf } from './target-identity.js'
export { webhookSignature } from './webhook-signature.js'
