import { isUtf8 } from 'node:buffer'

/** MQTT 5 property identifiers (§2.2.2.2) and the value type each one has. */
const propertyTypes: Readonly<
  Record<number, 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair'>
> = {
  0x01: 'byte', // payload format indicator
  0x02: 'u32', // message expiry interval
  0x03: 'utf8', // content type
  0x08: 'utf8', // response topic
  0x09: 'binary', // correlation data
  0x0b: 'varint', // subscription identifier
  0x11: 'u32', // session expiry interval
  0x12: 'utf8', // assigned client identifier
  0x13: 'u16', // server keep alive
  0x15: 'utf8', // authentication method
  0x16: 'binary', // authentication data
  0x17: 'byte', // request problem information
  0x18: 'u32', // will delay interval
  0x19: 'byte', // request response information
  0x1a: 'utf8', // response information
  0x1c: 'utf8', // server reference
  0x1f: 'utf8', // reason string
  0x21: 'u16', // receive maximum
  0x22: 'u16', // topic alias maximum
  0x23: 'u16', // topic alias
  0x24: 'byte', // maximum QoS
  0x25: 'byte', // retain available
  0x26: 'pair', // user property
  0x27: 'u32', // maximum packet size
  0x28: 'byte', // wildcard subscription available
  0x29: 'byte', // subscription identifier available
  0x2a: 'byte', // shared subscription available
}

/** Which properties a client may send in each place (MQTT 5 §3.x.2.3). */
export const clientProperties = {
  connect: new Set([0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27]),
  will: new Set([0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26]),
  publish: new Set([0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26]),
  subscribe: new Set([0x0b, 0x26]),
} as const

const fixedWidths = { byte: 1, u16: 2, u32: 4 } as const

/**
 * Checks a property list on the raw bytes, which mqtt-packet does not: every identifier is one
 * the packet may carry [MQTT-2.2.2-2], none but User Property appears twice [MQTT-3.1.2-11 and
 * the like], and every string is well-formed UTF-8 [MQTT-1.5.4-1]. Returns where the list ends,
 * or a reason it is malformed.
 */
export function checkProperties(
  frame: Buffer,
  at: number,
  allowed: ReadonlySet<number>,
): { end: number } | { error: string } {
  const length = readVarint(frame, at)
  if (length === undefined) return { error: 'property length overruns the packet' }
  const end = length.next + length.value
  if (end > frame.length) return { error: 'properties overrun the packet' }
  const seen = new Set<number>()
  let p = length.next
  while (p < end) {
    const id = frame[p++] ?? 0
    const type = propertyTypes[id]
    if (type === undefined || !allowed.has(id))
      return { error: `property 0x${id.toString(16)} is not allowed here` }
    if (id !== 0x26 && seen.has(id)) return { error: `property 0x${id.toString(16)} appears twice` }
    seen.add(id)
    const next = skipValue(frame, p, end, type)
    if (next === undefined) return { error: `property 0x${id.toString(16)} is malformed` }
    p = next
  }
  return { end }
}

function skipValue(frame: Buffer, p: number, end: number, type: string): number | undefined {
  if (type === 'byte' || type === 'u16' || type === 'u32') {
    const next = p + fixedWidths[type]
    return next <= end ? next : undefined
  }
  if (type === 'varint') {
    const v = readVarint(frame, p)
    return v !== undefined && v.next <= end ? v.next : undefined
  }
  const first = readString(frame, p, end, type !== 'binary')
  if (first === undefined || type !== 'pair') return first
  return readString(frame, first, end, true)
}

function readString(frame: Buffer, p: number, end: number, utf8: boolean): number | undefined {
  if (p + 2 > end) return undefined
  const next = p + 2 + frame.readUInt16BE(p)
  if (next > end) return undefined
  if (utf8 && !isUtf8(frame.subarray(p + 2, next))) return undefined
  return next
}

/** Reads a variable byte integer (§1.5.5); undefined when it overruns or has more than 4 bytes. */
export function readVarint(frame: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0
  let multiplier = 1
  for (let i = 0; i < 4; i++) {
    const byte = frame[at + i]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 }
    multiplier *= 128
  }
  return undefined
}
