import type { IConnectPacket, IPublishPacket } from 'mqtt-packet'
import type { BrokerMessage, MessageProperties } from '../message.js'

type PublishFields = Pick<IPublishPacket, 'topic' | 'payload' | 'qos' | 'retain'> & {
  readonly properties?:
    | NonNullable<IPublishPacket['properties']>
    | NonNullable<NonNullable<IConnectPacket['will']>['properties']>
}

/** The application message of a PUBLISH (or a will), without connection-scoped properties such as the topic alias. */
export function messageFromPublish(
  packet: PublishFields,
  publisherClientId: string | undefined,
  nowMs: number,
): BrokerMessage {
  const p = packet.properties ?? {}
  const properties: MessageProperties = {
    ...(p.payloadFormatIndicator === undefined
      ? {}
      : { payloadFormatIndicator: p.payloadFormatIndicator }),
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { messageExpiryInterval: p.messageExpiryInterval }),
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    ...(p.responseTopic === undefined ? {} : { responseTopic: p.responseTopic }),
    ...(p.correlationData === undefined ? {} : { correlationData: p.correlationData }),
    ...(p.userProperties === undefined ? {} : { userProperties: p.userProperties }),
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  return {
    topic: packet.topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    properties,
    createdAtMs: nowMs,
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { expiresAtMs: nowMs + p.messageExpiryInterval * 1000 }),
    ...(publisherClientId === undefined ? {} : { publisherClientId }),
  }
}
