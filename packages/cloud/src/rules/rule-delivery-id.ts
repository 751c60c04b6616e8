import { createHash } from 'node:crypto'

/**
 * The prefix of every delivery id a rule's webhook, AMQP and NATS actions queue in the outbox:
 * `r.` and 22 base64url characters of SHA-256 over tenant and rule name, then `.`. Ids are
 * `<prefix><version>.<action index>.<ts>.<deviceId>` (at most 121 characters): the same message
 * queued twice is queued once, and a rule's dead letters are those whose id starts with its prefix.
 *
 * @example
 * outbox.listDeadLetters().filter((d) => d.id.startsWith(ruleDeliveryPrefix(tenantId, name)))
 */
export function ruleDeliveryPrefix(tenantId: string, name: string): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${name}`).digest('base64url')
  return `r.${digest.slice(0, 22)}.`
}

/** The delivery id of one action of one rule for one result (see {@link ruleDeliveryPrefix}). */
export function ruleDeliveryId(
  prefix: string,
  version: number,
  actionIndex: number,
  at: number,
  deviceId: string,
): string {
  return `${prefix}${String(version)}.${String(actionIndex)}.${String(at)}.${deviceId}`
}
