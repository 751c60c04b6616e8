import type { PublishPacket, PublishProperties } from '../codec/publish-packet.js'
import type { BrokerMessage, MessageProperties } from '../message.js'

/** What a PUBLISH or a will (its properties converted, see `buildWill`) gives a message. */
type PublishFields = Pick<PublishPacket, 'topic' | 'payload' | 'qos' | 'retain'> & {
  readonly properties?: Omit<PublishProperties, 'topicAlias' | 'subscriptionIdentifier'>
}

/** Shared by every message published without properties (most of them); never mutated. */
const noProperties: MessageProperties = Object.freeze({})

/**
 * The application message of a PUBLISH (or a will), without connection-scoped properties such as
 * the topic alias; `topic` is the one the alias resolved to, when there was one.
 */
export function messageFromPublish(
  packet: PublishFields,
  publisherClientId: string | undefined,
  nowMs: number,
  topic: string = packet.topic,
): BrokerMessage {
  const p = packet.properties
  const expirySec = p?.messageExpiryInterval
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  return {
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    properties: p === undefined ? noProperties : messageProperties(p),
    createdAtMs: nowMs,
    ...(expirySec === undefined ? {} : { expiresAtMs: nowMs + expirySec * 1000 }),
    ...(publisherClientId === undefined ? {} : { publisherClientId }),
  }
}

function messageProperties(p: NonNullable<PublishFields['properties']>): MessageProperties {
  return {
    ...(p.payloadFormatIndicator === undefined
      ? {}
      : { payloadFormatIndicator: p.payloadFormatIndicator }),
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { messageExpiryInterval: p.messageExpiryInterval }),
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    ...(p.responseTopic === undefined ? {} : { responseTopic: p.responseTopic }),
    ...(p.correlationData === undefined ? {} : { correlationData: p.correlationData }),
    // [MQTT-3.3.2-17] [MQTT-3.3.2-18] kept as sent: every pair, in order.
    ...(p.userProperties === undefined ? {} : { userProperties: p.userProperties }),
  }
}
