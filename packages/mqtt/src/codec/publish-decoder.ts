import { isUtf8 } from 'node:buffer'
import type { UserProperty } from '../message.js'
import { PacketDecodeError } from './packet-decode-error.js'
import { checkProperties, clientProperties, readVarint } from './property-check.js'
import type { PublishPacket, PublishProperties } from './publish-packet.js'

/**
 * Decodes one whole PUBLISH frame (MQTT 3.1.1 §3.3, MQTT 5 §3.3) without mqtt-packet, whose
 * parser allocates a stream per packet: PUBLISH is most of a broker's traffic. It refuses what
 * the mqtt-packet path refused, and also a QoS 1/2 PUBLISH cut before its packet identifier
 * (which mqtt-packet read as -1); it checks what that path checked on the raw bytes: the topic is
 * well-formed UTF-8 [MQTT-1.5.4-1] and the properties are ones a PUBLISH may carry, none repeated
 * but User Property, each within the list [MQTT-2.2.2-2] (see {@link checkProperties}). The topic
 * rules themselves ([MQTT-3.3.2-2] and the like) are the handler's. The payload and Correlation
 * Data are views into `frame`; User Properties are a list of pairs in the order sent
 * [MQTT-3.3.2-18].
 */
export function decodePublish(frame: Buffer, version: 3 | 4 | 5): PublishPacket {
  const flags = (frame[0] ?? 0) & 0x0f
  const qos = ((flags >> 1) & 0x03) as 0 | 1 | 2 | 3
  // [MQTT-3.3.1-4] both QoS bits set.
  if (qos === 3) throw malformed('both QoS bits are set')
  let at = fixedHeaderLength(frame)
  if (at + 2 > frame.length) throw malformed('the topic length overruns the packet')
  const topicEnd = at + 2 + frame.readUInt16BE(at)
  if (topicEnd > frame.length) throw malformed('the topic overruns the packet')
  const topic = readUtf8(frame, at + 2, topicEnd)
  if (topic === undefined) throw malformed('the topic is not well-formed UTF-8')
  at = topicEnd
  let messageId: number | undefined
  if (qos > 0) {
    if (at + 2 > frame.length) throw malformed('the packet identifier overruns the packet')
    messageId = frame.readUInt16BE(at)
    at += 2
  }
  let properties: PublishProperties | undefined
  if (version === 5) {
    const list = decodeProperties(frame, at)
    properties = list.properties
    at = list.end
  }
  const packet: PublishPacket = {
    cmd: 'publish',
    retain: (flags & 0x01) !== 0,
    qos,
    dup: (flags & 0x08) !== 0,
    topic,
    payload: frame.subarray(at),
  }
  if (messageId !== undefined) packet.messageId = messageId
  if (properties !== undefined) packet.properties = properties
  return packet
}

function malformed(why: string): PacketDecodeError {
  return new PacketDecodeError(`malformed packet: ${why}`)
}

/** Length of the fixed header: the type byte and the remaining length (checked by FrameReader). */
function fixedHeaderLength(frame: Buffer): number {
  let i = 1
  while (((frame[i] ?? 0) & 0x80) !== 0) i++
  return i + 1
}

/** The string in `frame[start, end)`, or undefined when it is not well-formed UTF-8. */
function readUtf8(frame: Buffer, start: number, end: number): string | undefined {
  // Topics are nearly always ASCII: a byte loop is cheaper than a view for isUtf8.
  let ascii = true
  for (let i = start; i < end && ascii; i++) ascii = (frame[i] ?? 0) < 0x80
  if (!ascii && !isUtf8(frame.subarray(start, end))) return undefined
  return frame.toString(ascii ? 'latin1' : 'utf8', start, end)
}

/** Checks and reads the MQTT 5 property list at `at`; undefined properties when it is empty. */
function decodeProperties(
  frame: Buffer,
  at: number,
): { properties: PublishProperties | undefined; end: number } {
  // The common case: a property length of 0.
  if (frame[at] === 0) return { properties: undefined, end: at + 1 }
  const checked = checkProperties(frame, at, clientProperties.publish)
  if ('error' in checked) throw malformed(checked.error)
  const start = readVarint(frame, at)?.next ?? checked.end
  const properties = start < checked.end ? readProperties(frame, start, checked.end) : undefined
  return { properties, end: checked.end }
}

/** Reads a property list that {@link checkProperties} accepted for a PUBLISH. */
function readProperties(frame: Buffer, start: number, end: number): PublishProperties {
  const properties: PublishProperties = {}
  let userProperties: UserProperty[] | undefined
  let p = start
  while (p < end) {
    const id = frame[p++] ?? 0
    switch (id) {
      case 0x01:
        properties.payloadFormatIndicator = frame[p++] !== 0
        break
      case 0x02:
        properties.messageExpiryInterval = frame.readUInt32BE(p)
        p += 4
        break
      case 0x23:
        properties.topicAlias = frame.readUInt16BE(p)
        p += 2
        break
      case 0x03:
        properties.contentType = readString(frame, p)
        p += 2 + frame.readUInt16BE(p)
        break
      case 0x08:
        properties.responseTopic = readString(frame, p)
        p += 2 + frame.readUInt16BE(p)
        break
      case 0x09:
        properties.correlationData = frame.subarray(p + 2, p + 2 + frame.readUInt16BE(p))
        p += 2 + frame.readUInt16BE(p)
        break
      case 0x26: {
        const name = readString(frame, p)
        p += 2 + frame.readUInt16BE(p)
        const value = readString(frame, p)
        p += 2 + frame.readUInt16BE(p)
        // A name sent more than once keeps every value, in order (MQTT 5 §3.3.2.3.7).
        userProperties ??= []
        userProperties.push([name, value])
        break
      }
      default:
        throw malformed(`property 0x${id.toString(16)} is not allowed here`)
    }
  }
  if (userProperties !== undefined) properties.userProperties = userProperties
  return properties
}

function readString(frame: Buffer, at: number): string {
  return frame.toString('utf8', at + 2, at + 2 + frame.readUInt16BE(at))
}
