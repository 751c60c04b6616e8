import { checkTopic } from '@strata/protocol'
import type { PublishPacket as IPublishPacket } from '../codec/publish-packet.js'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'
import type { BrokerMessage } from '../message.js'
import type { PublishVerdict } from '../hooks/broker-hooks.js'
import { messageFromPublish } from './message-from-publish.js'
import { reasonString } from './reason-string.js'

/**
 * PUBLISH from a client (MQTT 5 §3.3): resolve the topic alias, validate, enforce the receive
 * maximum, authorise, hand the message to the onPublish hook, route it, and acknowledge it once
 * everything it changed in the store is durable. Acknowledgements keep arrival order.
 */
export function handlePublish(conn: Connection, packet: IPublishPacket): void {
  const topic = resolveTopic(conn, packet)
  if (topic === undefined) return
  const { options, hooks } = conn.core
  // BrokerLimits carries maxTopicBytes/maxTopicLevels: it is a TopicLimits as it stands.
  const check = checkTopic(topic, 'name', options.limits)
  if (!check.ok)
    return conn.protocolViolation(reason.topicNameInvalid, `invalid topic: ${check.reason}`)
  if (packet.qos > options.maxQos)
    return conn.protocolViolation(
      reason.qosNotSupported,
      `QoS ${String(packet.qos)} is not supported`,
    )
  if (packet.retain && !options.retainAvailable)
    return conn.protocolViolation(reason.retainNotSupported, 'retain is not supported')
  const id = packet.messageId ?? 0
  if (packet.qos > 0) {
    // [MQTT-2.2.1-3] a QoS 1/2 PUBLISH needs a non-zero packet identifier.
    if (id === 0)
      return conn.protocolViolation(
        reason.protocolError,
        'QoS 1/2 PUBLISH with packet identifier 0',
      )
    // Receive Maximum is an MQTT 5 agreement; a 3.1.1 client never heard of it [MQTT-4.3.3-2].
    if (conn.version === 5 && conn.inboundUnacked >= options.limits.receiveMaximum) {
      return conn.protocolViolation(
        reason.receiveMaximumExceeded,
        'more unacknowledged QoS 1/2 PUBLISH than Receive Maximum',
      )
    }
    // A QoS 2 id awaiting PUBREL is a retransmission: answer again, deliver once [MQTT-4.3.3-10].
    if (packet.qos === 2 && conn.session?.incomingQos2.has(id) === true)
      return conn.send({ cmd: 'pubrec', messageId: id })
    conn.inboundUnacked++
  }
  conn.core.metrics.messagesReceived++
  const client = conn.client
  if (client === undefined) return
  const maxPayloadBytes = options.limits.maxPayloadBytes
  if (maxPayloadBytes > 0 && Buffer.byteLength(packet.payload) > maxPayloadBytes)
    return refuseTooLarge(conn, packet, topic, maxPayloadBytes)
  const denial = topic.startsWith('$')
    ? { allowed: false as const, reason: 'topics starting with $ are reserved for the broker' }
    : hooks.authorizePublish?.(client, topic, packet.qos, packet.retain)
  if (denial !== undefined && !denial.allowed) {
    conn.core.metrics.publishDenied++
    conn.log.info({ topic, why: denial.reason }, 'publish denied')
    if (conn.version !== 5 && options.deniedPublishV3 === 'disconnect')
      return conn.close(`publish to ${topic} denied`, { publishWill: true })
    return acknowledge(
      conn,
      packet,
      undefined,
      'reasonCode' in denial ? (denial.reasonCode ?? reason.notAuthorized) : reason.notAuthorized,
      denial.reason ?? 'not authorized',
    )
  }
  const message = messageFromPublish(packet, conn.clientId, conn.core.clock(), topic)
  const verdict = hooks.onPublish?.(client, message)
  if (verdict instanceof Promise || conn.routeChain !== undefined)
    return routeInOrder(conn, packet, message, verdict)
  accept(conn, packet, message, verdict)
}

/**
 * A payload over `maxPayloadBytes` (Mosquitto's `message_size_limit`): as mosquitto.conf(5) says,
 * the message is dropped but its QoS flow completed and the connection kept: the packet was
 * within the Maximum Packet Size the client was told, so DISCONNECT 0x95 would not be true. On
 * MQTT 5 the PUBACK/PUBREC says 0x97 (quota exceeded: "an implementation or administrative
 * imposed limit has been exceeded"); Mosquitto 2 sends 0x95, which is not a PUBACK or PUBREC
 * reason code [MQTT-3.4.2-1] [MQTT-3.5.2-1]. On 3.1.1 a plain acknowledgement; QoS 0 gets nothing.
 */
function refuseTooLarge(
  conn: Connection,
  packet: IPublishPacket,
  topic: string,
  maxPayloadBytes: number,
): void {
  conn.core.metrics.limitBreaches++
  conn.log.info(
    { topic, qos: packet.qos, payloadBytes: Buffer.byteLength(packet.payload), maxPayloadBytes },
    'publish payload too large: dropped',
  )
  acknowledge(
    conn,
    packet,
    undefined,
    reason.quotaExceeded,
    `payload larger than ${String(maxPayloadBytes)} bytes`,
  )
}

/** The topic of a PUBLISH, through the MQTT 5 topic alias when there is one (§3.3.2.3.4). */
function resolveTopic(conn: Connection, packet: IPublishPacket): string | undefined {
  const alias = packet.properties?.topicAlias
  if (alias === undefined) {
    if (packet.topic === '')
      conn.protocolViolation(reason.protocolError, 'empty topic without a topic alias')
    return packet.topic === '' ? undefined : packet.topic
  }
  // [MQTT-3.3.2-8, MQTT-3.3.2-9] an alias of 0 or above our Topic Alias Maximum.
  if (alias === 0 || alias > conn.core.options.limits.topicAliasMaximum) {
    conn.protocolViolation(reason.topicAliasInvalid, `topic alias ${String(alias)} out of range`)
    return undefined
  }
  if (packet.topic !== '') {
    conn.aliasesIn.set(alias, packet.topic)
    return packet.topic
  }
  const topic = conn.aliasesIn.get(alias)
  if (topic === undefined)
    conn.protocolViolation(reason.protocolError, `topic alias ${String(alias)} was never set`)
  return topic
}

/** Routes after every earlier message of this connection, once the onPublish hook has answered. */
function routeInOrder(
  conn: Connection,
  packet: IPublishPacket,
  message: BrokerMessage,
  verdict: ReturnType<NonNullable<Connection['core']['hooks']['onPublish']>>,
): void {
  const previous = conn.routeChain ?? Promise.resolve()
  const chain = Promise.all([previous, verdict]).then(([, code]) => {
    if (conn.routeChain === chain) conn.routeChain = undefined
    accept(conn, packet, message, code)
  })
  conn.routeChain = chain
  chain.catch((err: unknown) => {
    conn.log.error({ err }, 'onPublish hook failed')
    conn.close('the onPublish hook failed', {
      reasonCode: reason.unspecifiedError,
      publishWill: true,
    })
  })
}

function accept(
  conn: Connection,
  packet: IPublishPacket,
  message: BrokerMessage,
  verdict: PublishVerdict,
): void {
  if (conn.state === 'closed') return
  const code = typeof verdict === 'object' ? verdict.reasonCode : verdict
  if (code !== undefined && code >= 0x80) {
    const why = typeof verdict === 'object' ? verdict.reason : undefined
    return acknowledge(conn, packet, undefined, code, why)
  }
  const durable = conn.core.acceptPublish(message)
  acknowledge(conn, packet, durable, reason.success)
}

/** PUBACK / PUBREC in arrival order, after `durable` resolves. */
function acknowledge(
  conn: Connection,
  packet: IPublishPacket,
  durable: Promise<void> | undefined,
  code: number,
  why?: string,
): void {
  if (packet.qos === 0) return
  const id = packet.messageId ?? 0
  const session = conn.session
  let ready = durable
  if (packet.qos === 2 && code < 0x80 && session !== undefined) {
    session.incomingQos2.add(id)
    session.store?.putIncomingQos2(session.clientId, id)
    ready = conn.core.persistence.barrier() ?? durable
  }
  const withCode =
    conn.version === 5 && code !== reason.success
      ? { reasonCode: code, ...reasonString(conn, why) }
      : {}
  conn.acks.add(
    ready,
    () => {
      if (packet.qos === 1 || code >= 0x80)
        conn.inboundUnacked = Math.max(0, conn.inboundUnacked - 1)
      conn.send({ cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: id, ...withCode })
    },
    (err) => {
      conn.log.error({ err }, 'store flush failed; closing so the client resends')
      conn.close('the store failed', { reasonCode: reason.unspecifiedError, publishWill: false })
    },
  )
}
