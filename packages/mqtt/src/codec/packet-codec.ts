import { isUtf8 } from 'node:buffer'
import mqttPacket, { type Packet as MqttPacket } from 'mqtt-packet'
import { decodeShortAck, encodeShortAck, encodeShortConnack } from './ack-codec.js'
import { PacketDecodeError } from './packet-decode-error.js'
import { checkProperties, clientProperties } from './property-check.js'
import { decodePublish } from './publish-decoder.js'
import type { Packet } from './publish-packet.js'
import { encodePublish } from './publish-encoder.js'

export type ProtocolVersion = 3 | 4 | 5

/**
 * One mqtt-packet parser shared by every connection of a broker: frames arrive whole (see
 * {@link FrameReader}), so a parse never spans two calls and the parser holds no connection
 * state between them. One per connection cost 1.7 KB of heap each.
 */
export class SharedPacketParser {
  private parser: ReturnType<typeof mqttPacket.parser>
  private decoded: MqttPacket | undefined
  private error: Error | undefined

  constructor() {
    this.parser = this.createParser()
  }

  private createParser(): ReturnType<typeof mqttPacket.parser> {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet: MqttPacket) => {
      this.decoded = packet
    })
    parser.on('error', (err: Error) => {
      this.error = err
    })
    return parser
  }

  /** Parses one whole frame as `version`; returns what the parser's callbacks left. */
  parse(
    frame: Buffer,
    version: ProtocolVersion,
  ): { packet: MqttPacket | undefined; error: Error | undefined } {
    // mqtt-packet rewrites its settings on CONNECT: set the version for every frame.
    ;(this.parser as unknown as { settings: { protocolVersion: number } }).settings = {
      protocolVersion: version,
    }
    this.decoded = undefined
    this.error = undefined
    let result: { packet: MqttPacket | undefined; error: Error | undefined }
    try {
      this.parser.parse(frame)
      result = { packet: this.decoded, error: this.error }
    } catch (err) {
      result = { packet: undefined, error: err instanceof Error ? err : new Error(String(err)) }
    }
    // After any failure the parser's read position is stale: a new parser, so no other
    // connection is affected by one client's malformed packet.
    if (result.packet === undefined || result.error !== undefined) this.parser = this.createParser()
    return result
  }
}

/**
 * Decodes the whole frames of one connection: PUBLISH and plain acknowledgements by hand (most
 * of the traffic), the rest with mqtt-packet. mqtt-packet turns ill-formed UTF-8 into U+FFFD
 * silently, so the string fields a server must check [MQTT-1.5.4-1] are validated on the raw
 * bytes here (Mosquitto CVE-2017-7653); and a parser that throws on a malformed MQTT 5 packet
 * (mqtt-packet #107, aedes #612) becomes a decode error instead of a crash.
 */
export class PacketDecoder {
  private readonly shared: SharedPacketParser
  private version: ProtocolVersion = 4

  constructor(shared: SharedPacketParser) {
    this.shared = shared
  }

  /** Sets the version negotiated by CONNECT; v5 packets carry properties. */
  setProtocolVersion(version: ProtocolVersion): void {
    this.version = version
  }

  /** Decodes one whole frame. Throws PacketDecodeError when it is malformed. */
  decode(frame: Buffer): Packet {
    if ((frame[0] ?? 0) >> 4 === 3) return decodePublish(frame, this.version)
    const ack = decodeShortAck(frame)
    if (ack !== undefined) return ack
    const { packet, error } = this.shared.parse(frame, this.version)
    if (error !== undefined) throw new PacketDecodeError(`malformed packet: ${error.message}`)
    if (packet === undefined)
      throw new PacketDecodeError('malformed packet: the frame holds no whole packet')
    // PUBLISH is decoded above and never reaches the parser; this narrows the type.
    if (packet.cmd === 'publish') throw new PacketDecodeError('malformed packet: PUBLISH')
    if (this.version === 5 && hasRepeatedProperty(packet)) {
      // (MQTT 5 §2.2.2) each property but User Property appears at most once; mqtt-packet turns a repeat into an array.
      throw new PacketDecodeError('malformed packet: a property appears more than once')
    }
    if (hasUtf8Fields(packet) && !utf8FieldsSafe(frame, packet, this.version)) {
      throw new PacketDecodeError(
        // [MQTT-1.5.4-1] ill-formed UTF-8; [MQTT-2.2.2-2] a property repeated or not allowed here.
        'malformed packet: ill-formed UTF-8 or a bad property',
      )
    }
    return packet
  }
}

/** The raw scan reads lengths from the frame: bytes that overrun it make the packet malformed. */
function utf8FieldsSafe(frame: Buffer, packet: Packet, version: ProtocolVersion): boolean {
  try {
    return utf8FieldsValid(frame, packet, version)
  } catch {
    return false
  }
}

function hasRepeatedProperty(packet: Packet): boolean {
  const own = (packet as { properties?: object }).properties
  const lists = [own, packet.cmd === 'connect' ? packet.will?.properties : undefined]
  for (const properties of lists) {
    if (properties === undefined) continue
    for (const [key, value] of Object.entries(properties)) {
      if (key !== 'userProperties' && Array.isArray(value)) return true
    }
  }
  return false
}

function hasUtf8Fields(packet: Packet): boolean {
  // CONNECT, SUBSCRIBE and UNSUBSCRIBE carry the strings and properties checked on the raw bytes
  // (PUBLISH's are checked by decodePublish).
  return packet.cmd === 'subscribe' || packet.cmd === 'unsubscribe' || packet.cmd === 'connect'
}

/**
 * Checks the UTF-8 string fields on the raw bytes: SUBSCRIBE and UNSUBSCRIBE
 * filters; CONNECT client id, will topic and user name. Property strings are passed through.
 */
function utf8FieldsValid(frame: Buffer, packet: Packet, version: ProtocolVersion): boolean {
  const r = { at: headerLength(frame) }
  switch (packet.cmd) {
    case 'subscribe':
    case 'unsubscribe': {
      r.at += 2 // packet identifier
      const allowed =
        packet.cmd === 'subscribe' ? clientProperties.subscribe : unsubscribeProperties
      if (version === 5 && !properties(frame, r, allowed)) return false
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

const unsubscribeProperties: ReadonlySet<number> = new Set([0x26])

/** Checks an MQTT 5 property list in place and moves past it. */
function properties(frame: Buffer, r: { at: number }, allowed: ReadonlySet<number>): boolean {
  const result = checkProperties(frame, r.at, allowed)
  if ('error' in result) return false
  r.at = result.end
  return true
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
  if (v5 && !properties(frame, r, clientProperties.connect)) return false
  if (!readUtf8(frame, r)) return false
  if (packet.will !== undefined) {
    if (v5 && !properties(frame, r, clientProperties.will)) return false
    if (!readUtf8(frame, r)) return false
    skipField(frame, r)
  }
  return (flags & 0x80) === 0 || readUtf8(frame, r)
}

function readUtf8(frame: Buffer, r: { at: number }): boolean {
  const length = frame.readUInt16BE(r.at)
  if (r.at + 2 + length > frame.length) throw new RangeError('string overruns the packet')
  const ok = isUtf8(frame.subarray(r.at + 2, r.at + 2 + length))
  r.at += 2 + length
  return ok
}

function skipField(frame: Buffer, r: { at: number }): void {
  r.at += 2 + frame.readUInt16BE(r.at)
}

/**
 * The protocol level byte of a CONNECT frame (bridge bit cleared), read without the parser so an
 * unsupported level can still be answered [MQTT-3.1.2-2]; undefined when the frame is too short.
 */
export function connectProtocolLevel(frame: Buffer): number | undefined {
  const at = headerLength(frame)
  if (frame.length < at + 2) return undefined
  const levelAt = at + 2 + frame.readUInt16BE(at)
  return levelAt < frame.length ? (frame[levelAt] ?? 0) & 0x7f : undefined
}

function headerLength(frame: Buffer): number {
  let i = 1
  while (((frame[i] ?? 0) & 0x80) !== 0) i++
  return i + 1
}

/** Encodes a packet for a connection of the given version. */
export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  if (packet.cmd === 'publish') return encodePublish(packet, version)
  const ack = encodeShortAck(packet, version) ?? encodeShortConnack(packet, version)
  if (ack !== undefined) return ack
  return mqttPacket.generate(packet, { protocolVersion: version })
}
