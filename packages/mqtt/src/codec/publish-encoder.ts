import type { UserProperties } from '../message.js'
import type { PublishPacket, PublishProperties } from './publish-packet.js'

/** The largest Remaining Length a variable byte integer holds (MQTT 5 §1.5.5). */
const maxRemainingLength = 268_435_455

/**
 * Encodes a PUBLISH byte for byte as mqtt-packet's `generate` does (properties in the order of
 * the object's keys), in one allocation, except that User Properties go out in the order of
 * their list [MQTT-3.3.2-18]: mqtt-packet writes each field to a stream of its own.
 * Throws when the packet cannot be encoded (a bug upstream, not client input).
 */
export function encodePublish(packet: PublishPacket, version: 3 | 4 | 5): Buffer {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  const topicLength = Buffer.byteLength(packet.topic)
  const qos = packet.qos
  if (qos > 0 && packet.messageId === undefined)
    throw new Error('a QoS 1/2 PUBLISH needs a packet identifier')
  const properties = version === 5 ? encodeProperties(packet.properties) : undefined
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (properties?.length ?? 0) + payload.length
  if (remaining > maxRemainingLength)
    throw new Error(`a PUBLISH of ${String(remaining)} bytes is too large`)
  const bytes = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining)
  bytes[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0)
  let at = writeVarint(bytes, 1, remaining)
  at = bytes.writeUInt16BE(topicLength, at)
  at += bytes.write(packet.topic, at)
  if (qos > 0) at = bytes.writeUInt16BE(packet.messageId ?? 0, at)
  if (properties !== undefined) at += properties.copy(bytes, at)
  bytes.set(payload, at)
  return bytes
}

/** The property list with its length prefix; a lone 0 when there are none. */
function encodeProperties(properties: PublishProperties | undefined): Buffer {
  if (properties === undefined) return emptyProperties
  const fields: Buffer[] = []
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'userProperties') fields.push(userProperties(value as UserProperties))
    else if (Array.isArray(value)) for (const one of value) fields.push(encodeProperty(name, one))
    else fields.push(encodeProperty(name, value))
  }
  const body = Buffer.concat(fields)
  const list = Buffer.allocUnsafe(varintLength(body.length) + body.length)
  body.copy(list, writeVarint(list, 0, body.length))
  return list
}

const emptyProperties = Buffer.from([0])

/** One PUBLISH property (MQTT 5 §3.3.2.3) other than User Property. */
function encodeProperty(name: string, value: unknown): Buffer {
  switch (name) {
    case 'payloadFormatIndicator':
      return Buffer.from([0x01, value === true ? 1 : 0])
    case 'messageExpiryInterval':
      return fixed(0x02, 4, value)
    case 'topicAlias':
      return fixed(0x23, 2, value)
    case 'contentType':
      return Buffer.concat([Buffer.from([0x03]), lengthPrefixed(String(value))])
    case 'responseTopic':
      return Buffer.concat([Buffer.from([0x08]), lengthPrefixed(String(value))])
    case 'correlationData':
      return Buffer.concat([Buffer.from([0x09]), lengthPrefixed(value as Uint8Array)])
    case 'subscriptionIdentifier': {
      const id = Number(value)
      const bytes = Buffer.allocUnsafe(1 + varintLength(id))
      bytes[0] = 0x0b
      writeVarint(bytes, 1, id)
      return bytes
    }
    default:
      throw new Error(`a PUBLISH cannot carry the property ${name}`)
  }
}

function fixed(id: number, width: 2 | 4, value: unknown): Buffer {
  const bytes = Buffer.allocUnsafe(1 + width)
  bytes[0] = id
  if (width === 2) bytes.writeUInt16BE(Number(value), 1)
  else bytes.writeUInt32BE(Number(value), 1)
  return bytes
}

/** Every User Property pair, in the order of the list (MQTT 5 §3.3.2.3.7). */
function userProperties(pairs: UserProperties): Buffer {
  const fields: Buffer[] = []
  for (const [name, value] of pairs) {
    fields.push(Buffer.from([0x26]), lengthPrefixed(name), lengthPrefixed(value))
  }
  return Buffer.concat(fields)
}

/** A UTF-8 string or binary data with its two-byte length (MQTT 5 §1.5.4, §1.5.6). */
function lengthPrefixed(value: string | Uint8Array): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value) : value
  if (data.length > 0xffff) throw new Error(`a field of ${String(data.length)} bytes is too long`)
  const bytes = Buffer.allocUnsafe(2 + data.length)
  bytes.writeUInt16BE(data.length, 0)
  bytes.set(data, 2)
  return bytes
}

function varintLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4
}

/** Writes a variable byte integer (§1.5.5) at `at`; returns where it ends. */
function writeVarint(bytes: Buffer, at: number, value: number): number {
  let rest = value
  let p = at
  do {
    const digit = rest % 128
    rest = Math.floor(rest / 128)
    bytes[p++] = rest > 0 ? digit | 0x80 : digit
  } while (rest > 0)
  return p
}
