import { isUtf8 } from 'node:buffer'
import mqttPacket, { type Packet } from 'mqtt-packet'

export type ProtocolVersion = 3 | 4 | 5

/** A packet the codec could not decode, with why. */
export class PacketDecodeError extends Error {
  override readonly name = 'PacketDecodeError'
}

/**
 * Decodes whole frames (from {@link FrameReader}) with mqtt-packet, one parser per connection.
 * mqtt-packet turns ill-formed UTF-8 into U+FFFD silently, so the string fields a server must
 * check [MQTT-1.5.4-1] are validated on the raw bytes here (Mosquitto CVE-2017-7653); and a
 * parser that throws on a malformed MQTT 5 packet (mqtt-packet #107, aedes #612) becomes a
 * decode error instead of a crash.
 */
export class PacketDecoder {
  private readonly parser: ReturnType<typeof mqttPacket.parser>
  private decoded: Packet | undefined
  private error: Error | undefined
  private version: ProtocolVersion = 4

  constructor() {
    this.parser = mqttPacket.parser({ protocolVersion: 4 })
    this.parser.on('packet', (packet: Packet) => {
      this.decoded = packet
    })
    this.parser.on('error', (err: Error) => {
      this.error = err
    })
  }

  /** Sets the version negotiated by CONNECT; v5 packets carry properties. */
  setProtocolVersion(version: ProtocolVersion): void {
    this.version = version
    ;(
      this.parser as unknown as { settings: { protocolVersion: number } }
    ).settings.protocolVersion = version
  }

  /** What the parser's callbacks left, cleared for the next frame. */
  private takeResult(): { packet: Packet | undefined; error: Error | undefined } {
    const result = { packet: this.decoded, error: this.error }
    this.decoded = undefined
    this.error = undefined
    return result
  }

  /** Decodes one whole frame. Throws PacketDecodeError when it is malformed. */
  decode(frame: Buffer): Packet {
    this.takeResult()
    try {
      this.parser.parse(frame)
    } catch (err) {
      throw new PacketDecodeError(
        `malformed packet: ${err instanceof Error ? err.message : String(err)}`,
      )
    }
    const { packet, error } = this.takeResult()
    if (error !== undefined) throw new PacketDecodeError(`malformed packet: ${error.message}`)
    if (packet === undefined)
      throw new PacketDecodeError('malformed packet: the frame holds no whole packet')
    if (hasUtf8Fields(packet) && !utf8FieldsValid(frame, packet, this.version)) {
      throw new PacketDecodeError(
        'malformed packet: a UTF-8 string field is not well-formed [MQTT-1.5.4-1]',
      )
    }
    return packet
  }
}

function hasUtf8Fields(packet: Packet): boolean {
  return (
    packet.cmd === 'publish' ||
    packet.cmd === 'subscribe' ||
    packet.cmd === 'unsubscribe' ||
    packet.cmd === 'connect'
  )
}

/**
 * Checks the UTF-8 string fields on the raw bytes: PUBLISH topic; SUBSCRIBE and UNSUBSCRIBE
 * filters; CONNECT client id, will topic and user name. Property strings are passed through.
 */
function utf8FieldsValid(frame: Buffer, packet: Packet, version: ProtocolVersion): boolean {
  const r = { at: headerLength(frame) }
  switch (packet.cmd) {
    case 'publish':
      return readUtf8(frame, r)
    case 'subscribe':
    case 'unsubscribe': {
      r.at += 2 // packet identifier
      if (version === 5) skipProperties(frame, r)
      while (r.at < frame.length) {
        if (!readUtf8(frame, r)) return false
        if (packet.cmd === 'subscribe') r.at += 1 // subscription options
      }
      return true
    }
    case 'connect':
      return connectStringsValid(frame, r, packet.protocolVersion === 5, packet)
    default:
      return true
  }
}

function connectStringsValid(
  frame: Buffer,
  r: { at: number },
  v5: boolean,
  packet: Packet & { cmd: 'connect' },
): boolean {
  skipField(frame, r) // protocol name, checked by the parser
  const flags = frame[r.at + 1] ?? 0
  r.at += 4 // level, flags, keep alive
  if (v5) skipProperties(frame, r)
  if (!readUtf8(frame, r)) return false
  if (packet.will !== undefined) {
    if (v5) skipProperties(frame, r)
    if (!readUtf8(frame, r)) return false
    skipField(frame, r)
  }
  return (flags & 0x80) === 0 || readUtf8(frame, r)
}

function readUtf8(frame: Buffer, r: { at: number }): boolean {
  const length = frame.readUInt16BE(r.at)
  const ok = isUtf8(frame.subarray(r.at + 2, r.at + 2 + length))
  r.at += 2 + length
  return ok
}

function skipField(frame: Buffer, r: { at: number }): void {
  r.at += 2 + frame.readUInt16BE(r.at)
}

function skipProperties(frame: Buffer, r: { at: number }): void {
  let length = 0
  let multiplier = 1
  for (;;) {
    const byte = frame[r.at++] ?? 0
    length += (byte & 0x7f) * multiplier
    multiplier *= 128
    if ((byte & 0x80) === 0) break
  }
  r.at += length
}

function headerLength(frame: Buffer): number {
  let i = 1
  while (((frame[i] ?? 0) & 0x80) !== 0) i++
  return i + 1
}

/** Encodes a packet for a connection of the given version. */
export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version })
}
