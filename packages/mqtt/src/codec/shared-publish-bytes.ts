import type { BrokerMessage } from '../message.js'

/** What the bytes of a PUBLISH depend on, when they may be shared. */
export interface PublishForm {
  readonly message: BrokerMessage
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
}

/**
 * The encoded PUBLISH of the message being fanned out, once per form it goes out in (MQTT 5 or
 * earlier, QoS, RETAIN): a message routed to N subscribers is encoded a few times instead of N.
 * QoS 0 deliveries share the very bytes; QoS 1/2 ones get a copy with their packet identifier
 * (and DUP) written in. Only the last message is kept: fan-out delivers it in one go. The caller
 * decides which deliveries may share bytes: those whose packet depends on nothing but the message
 * and the form (no topic alias, subscription identifiers or remaining expiry).
 */
export class SharedPublishBytes {
  private message: BrokerMessage | undefined
  /** Indexed by version (5 or earlier), QoS and RETAIN: the first delivery's bytes of each form. */
  private readonly forms: (Buffer | undefined)[] = []

  /**
   * The bytes of a delivery with `packetId` (QoS 1/2) and `dup`. The first delivery of a form
   * gets what `encode` makes for it; later ones share those bytes (QoS 0) or a patched copy.
   */
  bytes(
    delivery: PublishForm,
    v5: boolean,
    packetId: number | undefined,
    dup: boolean,
    encode: () => Buffer,
  ): Buffer {
    if (delivery.message !== this.message) {
      this.message = delivery.message
      this.forms.fill(undefined)
    }
    const index = (v5 ? 6 : 0) + delivery.qos * 2 + (delivery.retain ? 1 : 0)
    const shared = this.forms[index]
    if (shared === undefined) {
      const bytes = encode()
      this.forms[index] = bytes
      return bytes
    }
    if (packetId === undefined && ((shared[0] ?? 0) & 0x08) === (dup ? 0x08 : 0)) return shared
    return withPacketId(shared, packetId, dup)
  }
}

/** A copy of an encoded PUBLISH with its packet identifier and DUP flag set (MQTT 5 §3.3.1.1, §3.3.2.2). */
function withPacketId(shared: Buffer, packetId: number | undefined, dup: boolean): Buffer {
  const bytes = Buffer.allocUnsafe(shared.length)
  shared.copy(bytes)
  bytes[0] = ((bytes[0] ?? 0) & ~0x08) | (dup ? 0x08 : 0)
  if (packetId === undefined) return bytes
  let at = 1
  while (((bytes[at] ?? 0) & 0x80) !== 0) at++
  at++
  bytes.writeUInt16BE(packetId, at + 2 + bytes.readUInt16BE(at))
  return bytes
}
