import { checkTopic, parseSharedFilter } from '@strata/protocol'
import type { ISubscribePacket, ISubscription } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'
import { reasonString } from './reason-string.js'
import type { Subscription } from '../topics/subscription.js'

/**
 * SUBSCRIBE (MQTT 5 §3.8): each filter is validated, counted against the quota and authorised on
 * its own — one refused filter does not refuse the others (MQTT 5 §3.8.4). SUBACK goes first,
 * then the retained messages the new subscriptions ask for.
 */
export function handleSubscribe(conn: Connection, packet: ISubscribePacket): void {
  const session = conn.session
  if (session === undefined) return
  // [MQTT-2.2.1-3] a packet identifier is non-zero; [MQTT-3.8.3-2] at least one filter.
  if ((packet.messageId ?? 0) === 0)
    return conn.protocolViolation(reason.protocolError, 'SUBSCRIBE with packet identifier 0')
  if (packet.subscriptions.length === 0)
    return conn.protocolViolation(reason.protocolError, 'SUBSCRIBE without a topic filter')
  const subscriptionId = packet.properties?.subscriptionIdentifier
  if (subscriptionId === 0 || Array.isArray(subscriptionId)) {
    return conn.protocolViolation(reason.protocolError, 'invalid subscription identifier')
  }
  const granted: number[] = []
  const retainedFor: { subscription: Subscription; isNew: boolean }[] = []
  const refusals: { filter: string; why: string }[] = []
  for (const requested of packet.subscriptions) {
    if (requested.nl === true && requested.topic.startsWith('$share/')) {
      // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
      return conn.protocolViolation(reason.protocolError, 'No Local set on a shared subscription')
    }
    const outcome = subscribeOne(conn, requested, subscriptionId)
    granted.push(outcome.code)
    if (outcome.why !== undefined) refusals.push({ filter: requested.topic, why: outcome.why })
    if (outcome.subscription !== undefined)
      retainedFor.push({ subscription: outcome.subscription, isNew: outcome.isNew })
  }
  const why =
    conn.version === 5 && refusals.length > 0 ? reasonString(conn, describeRefusals(refusals)) : {}
  conn.send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted, ...why })
  for (const { subscription, isNew } of retainedFor)
    conn.core.sendRetained(session, subscription, isNew)
}

function subscribeOne(
  conn: Connection,
  requested: ISubscription,
  subscriptionId: number | undefined,
): { code: number; subscription?: Subscription; isNew: boolean; why?: string } {
  const { core } = conn
  const session = conn.session
  const refuse = (code: number, why: string) => {
    conn.log.info({ filter: requested.topic, code, why }, 'subscription refused')
    return { code: conn.version === 5 ? code : 0x80, isNew: false, why }
  }
  if (session === undefined || conn.client === undefined)
    return refuse(reason.unspecifiedError, 'no session')
  const shared = parseSharedFilter(requested.topic)
  if (shared !== undefined && 'error' in shared)
    return refuse(reason.topicFilterInvalid, shared.error)
  const inner = shared === undefined ? requested.topic : shared.filter
  const limits = core.options.limits
  const check = checkTopic(inner, 'filter', limits)
  if (!check.ok) return refuse(reason.topicFilterInvalid, check.reason)
  const exists = session.subscriptions.has(requested.topic)
  if (!exists && session.subscriptions.size >= limits.maxSubscriptionsPerClient) {
    core.metrics.limitBreaches++
    return refuse(
      reason.quotaExceeded,
      `more than ${String(limits.maxSubscriptionsPerClient)} subscriptions`,
    )
  }
  const offered = Math.min(requested.qos, core.options.maxQos) as 0 | 1 | 2
  const decision = core.hooks.authorizeSubscribe?.(conn.client, requested.topic, offered)
  if (decision !== undefined && !decision.allowed) {
    core.metrics.subscribeDenied++
    return refuse(decision.reasonCode ?? reason.notAuthorized, decision.reason ?? 'not authorized')
  }
  // MQTT 5 §3.8.4: the server might grant a lower QoS than requested; the hook may cap it.
  const qos = Math.min(offered, decision?.maxQos ?? offered) as 0 | 1 | 2
  const subscription: Subscription = {
    filter: requested.topic,
    qos,
    noLocal: requested.nl === true,
    retainAsPublished: requested.rap === true,
    retainHandling: (requested.rh ?? 0) as 0 | 1 | 2,
    ...(subscriptionId === undefined ? {} : { subscriptionId }),
  }
  core.addSubscription(session, subscription)
  return { code: qos, subscription, isNew: !exists }
}

/** One refusal reads as its reason; several name their filters. */
function describeRefusals(refusals: readonly { filter: string; why: string }[]): string {
  if (refusals.length === 1) return refusals[0]?.why ?? ''
  return refusals.map((r) => `${r.filter}: ${r.why}`).join('; ')
}
