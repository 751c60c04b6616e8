import type {
  IPubackPacket,
  IPubcompPacket,
  IPubrecPacket,
  IPubrelPacket,
  Packet,
} from 'mqtt-packet'

/** First bytes of the acknowledgements, flags included: PUBREL's are 0b0010 [MQTT-3.6.1-1]. */
const ackHeaders: Readonly<Record<number, 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'>> = {
  0x40: 'puback',
  0x50: 'pubrec',
  0x62: 'pubrel',
  0x70: 'pubcomp',
}
const ackBytes = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const

/**
 * Decodes the common four-byte acknowledgement (packet id only, success) without the general
 * parser: it is half of all QoS 1/2 traffic, and mqtt-packet allocates a stream per packet.
 * Anything else (reason codes, properties, bad flags) returns undefined for the general path.
 */
export function decodeShortAck(
  frame: Buffer,
): IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket | undefined {
  // Four bytes, or six with reason code 0x00 and no properties (MQTT 5 §3.4.2.1).
  const short = frame.length === 4 && frame[1] === 0x02
  const explicit = frame.length === 6 && frame[1] === 0x04 && frame[4] === 0x00 && frame[5] === 0x00
  if (!short && !explicit) return undefined
  const cmd = ackHeaders[frame[0] ?? 0]
  if (cmd === undefined) return undefined
  return { cmd, messageId: frame.readUInt16BE(2) }
}

/**
 * Encodes an acknowledgement that carries only its packet id (success, no properties), the
 * bytes mqtt-packet would write: 3.1.1's four, and for MQTT 5 the explicit reason code 0x00 and
 * empty property length that its encoder adds.
 */
export function encodeShortAck(packet: Packet, version: 3 | 4 | 5): Buffer | undefined {
  if (
    packet.cmd !== 'puback' &&
    packet.cmd !== 'pubrec' &&
    packet.cmd !== 'pubrel' &&
    packet.cmd !== 'pubcomp'
  )
    return undefined
  const withExtras = packet as { reasonCode?: number; properties?: object }
  if ((withExtras.reasonCode ?? 0) !== 0 || withExtras.properties !== undefined) return undefined
  const id = packet.messageId ?? 0
  if (version === 5)
    return Buffer.from([ackBytes[packet.cmd], 0x04, id >> 8, id & 0xff, 0x00, 0x00])
  return Buffer.from([ackBytes[packet.cmd], 0x02, id >> 8, id & 0xff])
}

/**
 * Encodes a 3.1.1 (or 3.1) CONNACK, the four bytes mqtt-packet would write, without its
 * generator: one per connection, and its garbage grows the heap of a broker taking thousands of
 * connections at once. MQTT 5 CONNACKs carry properties and return undefined.
 */
export function encodeShortConnack(packet: Packet, version: 3 | 4 | 5): Buffer | undefined {
  if (packet.cmd !== 'connack' || version === 5 || packet.returnCode === undefined) return undefined
  return Buffer.from([0x20, 0x02, packet.sessionPresent ? 0x01 : 0x00, packet.returnCode])
}
