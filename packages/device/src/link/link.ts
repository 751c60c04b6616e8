import type { IConnackPacket, IPublishPacket, ISubscription, Packet } from 'mqtt-packet'
import {
  addInflight,
  inflightCount,
  markDuplicate,
  nextPacketId,
  settleInflight,
  type Inflight,
} from './inflight.js'
import { LinkConnection } from './link-connection.js'
import { ackBytes, publishBytes, subscribeBytes, type PublishProperties } from './link-packets.js'
import type { LinkRef } from './link-types.js'

export type { PublishProperties } from './link-packets.js'

/**
 * One MQTT connection of one simulated device: a thin client on `mqtt-packet` whose state is a
 * few fields. Timers (connect timeout, keep-alive, delayed writes, close grace) are one entry in
 * the fleet's shared scheduler; events go to one `LinkHandler`.
 *
 * The code is split, the object is not: {@link LinkConnection} (the base class) holds the socket,
 * CONNECT/CONNACK, keep-alive, closes, faults and writing; this class holds the session — the
 * in-flight map, which exists only once something is in flight and holds each QoS 1 PUBLISH as
 * the encoded bytes that are resent (with DUP) after a reconnect (`inflight.ts`), packet ids, and
 * incoming PUBLISH, PUBACK, PUBREL and SUBACK. Packets are built by the functions of
 * `link-packets.ts`.
 *
 * @example
 * const link = new Link('pump-7', { kind: 'none' }, config, handler)
 * link.connect() // handler.onLinkUp(...) once the CONNACK arrives
 */
export class Link extends LinkConnection implements LinkRef {
  #inflight: Inflight = null
  /** Incoming QoS 2 ids between PUBREC and PUBREL (only if a broker sends QoS 2 anyway). */
  #qos2: Set<number> | null = null
  #nextId = 0
  #receiveMaximum = 0

  get inflightCount(): number {
    return inflightCount(this.#inflight)
  }

  /** Room for more QoS 1 messages now (the broker's Receive Maximum and ours). */
  get canPublish(): boolean {
    return this.isConnected && this.inflightCount < this.#receiveMaximum
  }

  /** Publishes; returns the packet id (QoS 1), 0 (QoS 0 written), or −1 (not connected, window full). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, properties?: PublishProperties): number {
    if (!this.isConnected) return -1
    const version = this.config.protocolVersion
    const now = this.config.scheduler.now()
    if (qos === 0) {
      this.write(publishBytes(topic, payload, 0, 0, properties, version), now)
      return 0
    }
    if (this.inflightCount >= this.#receiveMaximum) return -1
    const id = this.#allocateId()
    const bytes = publishBytes(topic, payload, 1, id, properties, version)
    this.#inflight = addInflight(this.#inflight, id, bytes)
    this.write(bytes, now)
    return id
  }

  /** Sends SUBSCRIBE; returns its packet id, or −1 when not connected. */
  subscribe(subscriptions: ISubscription[]): number {
    if (!this.isConnected) return -1
    const id = this.#allocateId()
    const bytes = subscribeBytes(id, subscriptions, this.config.protocolVersion)
    this.write(bytes, this.config.scheduler.now())
    return id
  }

  /** Forgets the in-flight messages (RAM lost in a power cut); returns how many. */
  clearInflight(): number {
    const count = this.inflightCount
    this.#inflight = null
    return count
  }

  // --- packets -------------------------------------------------------------------------------

  protected resumeSession(connack: IConnackPacket, now: number): void {
    const receiveMaximum = connack.properties?.receiveMaximum ?? 65_535
    this.#receiveMaximum = Math.min(this.config.maxInflight, receiveMaximum)
    // [MQTT-4.4.0-1] resend unacknowledged PUBLISH packets, with DUP set [MQTT-3.3.1-1].
    if (this.#inflight !== null)
      for (const bytes of this.#inflight.values()) this.write(markDuplicate(bytes), now)
  }

  protected handleSessionPacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'publish':
        return this.#onPublish(packet)
      case 'puback': {
        const id = packet.messageId ?? 0
        const left = settleInflight(this.#inflight, id)
        if (left !== undefined) {
          this.#inflight = left
          this.handler.onPuback(this, id, packet.reasonCode ?? 0, packet.properties?.reasonString)
        }
        return
      }
      case 'pubrel': {
        const id = packet.messageId ?? 0
        this.#qos2?.delete(id)
        this.#ack('pubcomp', id)
        return
      }
      case 'suback':
        this.handler.onSuback(this, packet.messageId ?? 0, packet.granted as number[])
        return
      case 'unsuback':
      case 'pubrec':
      case 'pubcomp':
        return // we never unsubscribe or publish at QoS 2: nothing to complete
      default:
        this.abort('protocol-error', `unexpected ${packet.cmd.toUpperCase()} from the broker`)
    }
  }

  #onPublish(packet: IPublishPacket): void {
    const id = packet.messageId ?? 0
    if (packet.qos === 2) {
      const seen = this.#qos2?.has(id) === true
      if (!seen) {
        ;(this.#qos2 ??= new Set()).add(id)
        this.handler.onMessage(this, packet)
      }
      if (this.isConnected) this.#ack('pubrec', id)
      return
    }
    this.handler.onMessage(this, packet)
    if (packet.qos === 1 && this.isConnected) this.#ack('puback', id)
  }

  #ack(cmd: 'puback' | 'pubrec' | 'pubcomp', id: number): void {
    this.write(ackBytes(cmd, id, this.config.protocolVersion), this.config.scheduler.now())
  }

  #allocateId(): number {
    this.#nextId = nextPacketId(this.#inflight, this.#nextId)
    return this.#nextId
  }
}
