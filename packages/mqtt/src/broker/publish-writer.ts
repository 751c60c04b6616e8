import type { PublishPacket as IPublishPacket } from '../codec/publish-packet.js'
import { SharedPublishBytes } from '../codec/shared-publish-bytes.js'
import type { Connection } from '../connection/connection.js'
import type { Delivery } from '../session/outbox.js'
import type { BrokerMetrics } from './metrics.js'

/**
 * Writes deliveries to connections as PUBLISH packets: MQTT 5 properties, subscription ids,
 * topic alias, the client's Maximum Packet Size. Deliveries whose bytes depend on the message
 * alone share one encoding per form (see {@link SharedPublishBytes}).
 */
export class PublishWriter {
  private readonly metrics: BrokerMetrics
  private readonly clock: () => number
  private readonly shared = new SharedPublishBytes()

  constructor(metrics: BrokerMetrics, clock: () => number) {
    this.metrics = metrics
    this.clock = clock
  }

  /** Sends a delivery; false when it was discarded for the client's Maximum Packet Size. */
  write(conn: Connection, delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    if (sharesBytes(conn, delivery)) {
      const bytes = this.shared.bytes(delivery, conn.version === 5, packetId, dup, () =>
        conn.encode(this.packet(conn, delivery, packetId, dup)),
      )
      return this.send(conn, bytes)
    }
    const packet = this.packet(conn, delivery, packetId, dup)
    if (!this.send(conn, conn.encode(packet))) return false
    const alias = packet.properties?.topicAlias
    if (alias !== undefined && packet.topic !== '') conn.aliasesOut.set(packet.topic, alias)
    return true
  }

  private send(conn: Connection, bytes: Buffer): boolean {
    // [MQTT-3.1.2-25] never send a packet over the client's Maximum Packet Size: discard the message.
    if (bytes.length > conn.clientMaxPacketBytes) return false
    conn.writeBuffer(bytes)
    this.metrics.messagesSent++
    return true
  }

  private packet(
    conn: Connection,
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): IPublishPacket {
    const message = delivery.message
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: message.topic,
      payload: asBuffer(message.payload),
      qos: delivery.qos,
      retain: delivery.retain,
      dup,
      ...(packetId === undefined ? {} : { messageId: packetId }),
    }
    if (conn.version === 5)
      packet.properties = publishProperties(conn, delivery, packet, this.clock())
    return packet
  }
}

/**
 * True when the packet depends on nothing but the message and its form: always before MQTT 5;
 * on 5 unless it carries a topic alias, subscription identifiers or a remaining expiry.
 */
function sharesBytes(conn: Connection, delivery: Delivery): boolean {
  if (conn.version !== 5) return true
  return (
    conn.clientTopicAliasMaximum === 0 &&
    delivery.message.expiresAtMs === undefined &&
    (delivery.subscriptionIds === undefined || delivery.subscriptionIds.length === 0)
  )
}

function publishProperties(
  conn: Connection,
  delivery: Delivery,
  packet: IPublishPacket,
  now: number,
): NonNullable<IPublishPacket['properties']> {
  const m = delivery.message
  const p = m.properties
  const props: NonNullable<IPublishPacket['properties']> = {}
  if (p.payloadFormatIndicator !== undefined)
    props.payloadFormatIndicator = p.payloadFormatIndicator
  // [MQTT-3.3.2-6] the expiry sent is the time that remains.
  if (m.expiresAtMs !== undefined)
    props.messageExpiryInterval = Math.max(0, Math.ceil((m.expiresAtMs - now) / 1000))
  if (p.contentType !== undefined) props.contentType = p.contentType
  if (p.responseTopic !== undefined) props.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) props.correlationData = asBuffer(p.correlationData)
  // [MQTT-3.3.2-17] [MQTT-3.3.2-18] unchanged and in order.
  if (p.userProperties !== undefined) props.userProperties = p.userProperties
  const ids = delivery.subscriptionIds
  if (ids !== undefined && ids.length > 0)
    props.subscriptionIdentifier = ids.length === 1 ? (ids[0] ?? 0) : [...ids]
  if (conn.clientTopicAliasMaximum > 0) {
    const alias = conn.aliasesOut.get(m.topic)
    if (alias !== undefined) {
      props.topicAlias = alias
      packet.topic = ''
    } else if (conn.aliasesOut.size < conn.clientTopicAliasMaximum) {
      // Recorded by write() once the packet is really sent, not when it is withheld.
      props.topicAlias = conn.aliasesOut.size + 1
    }
  }
  return props
}

/** Payloads restored from the store are plain Uint8Arrays; the encoder takes Buffers. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
