import { ProtocolError } from '../../errors/protocol-error.js'
import { decodeUtf8 } from '../utf8.js'
import { halfToNumber } from './half-float.js'

/** A value of the CBOR subset the protocol uses: no tags, no undefined, text map keys only. */
export type CborValue =
  number | bigint | string | boolean | null | Uint8Array | CborValue[] | CborMap
export interface CborMap {
  [key: string]: CborValue
}

export interface CborDecodeOptions {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number
  /** Deepest nesting of arrays and maps; deeper input is refused before it can exhaust the stack. */
  readonly maxDepth: number
  /**
   * How integers (major types 0 and 1) come back: `bigint` keeps them apart from floats, which
   * telemetry needs (int64 series); `number` suits JSON-like documents and refuses integers
   * beyond ±2^53.
   */
  readonly integers: 'bigint' | 'number'
}

export const defaultCborDecodeOptions: CborDecodeOptions = {
  maxBytes: 262_144,
  maxDepth: 32,
  integers: 'bigint',
}

interface Cursor {
  readonly bytes: Uint8Array
  readonly view: DataView
  readonly options: CborDecodeOptions
  pos: number
}

const BREAK = 0xff
const INDEFINITE = -1

/**
 * Decodes one CBOR data item (RFC 8949) strictly: every length is checked against the bytes
 * that remain before anything is allocated, nesting is bounded, text must be valid UTF-8, map
 * keys must be unique text strings, and nothing may follow the item. Errors give the byte offset.
 * (Our own decoder, not cbor-x: cbor-x returns 5 for both the integer 5 and the float 5.0 and
 * overflows the stack on deep input; cbor2 is strict but ~60× slower on telemetry.)
 *
 * @example
 * decodeCbor(new Uint8Array([0xa1, 0x61, 0x74, 0xf9, 0x4d, 0x60])) // { t: 21.5 }
 */
export function decodeCbor(bytes: Uint8Array, options: Partial<CborDecodeOptions> = {}): CborValue {
  const opts = { ...defaultCborDecodeOptions, ...options }
  if (bytes.length > opts.maxBytes) {
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `CBOR payload of ${String(bytes.length)} bytes exceeds ${String(opts.maxBytes)}`,
    )
  }
  if (bytes.length === 0) throw malformed(0, 'the payload is empty')
  const cursor: Cursor = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    options: opts,
    pos: 0,
  }
  const value = readItem(cursor, 0)
  if (cursor.pos !== bytes.length) {
    throw malformed(
      cursor.pos,
      `${String(bytes.length - cursor.pos)} bytes follow the end of the CBOR item`,
    )
  }
  return value
}

function malformed(offset: number, what: string): ProtocolError {
  return new ProtocolError('PROTOCOL_MALFORMED', `CBOR at byte ${String(offset)}: ${what}`, {
    details: { offset },
  })
}

function unsupported(offset: number, what: string): ProtocolError {
  return new ProtocolError('PROTOCOL_UNSUPPORTED', `CBOR at byte ${String(offset)}: ${what}`, {
    hint: 'Use maps with text keys, arrays, text, numbers, booleans and null only.',
    details: { offset },
  })
}

function need(c: Cursor, n: number, start: number): void {
  if (c.bytes.length - c.pos < n)
    throw malformed(start, 'the payload ends in the middle of an item')
}

/** Reads the argument of a head; 64-bit arguments come back as bigint. */
function readArgument(c: Cursor, info: number, start: number): number | bigint {
  if (info < 24) return info
  const widths: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 }
  const width = widths[info]
  if (info === 31) return INDEFINITE
  if (width === undefined) throw malformed(start, `reserved additional information ${String(info)}`)
  need(c, width, start)
  const at = c.pos
  c.pos += width
  if (width === 1) return c.view.getUint8(at)
  if (width === 2) return c.view.getUint16(at)
  if (width === 4) return c.view.getUint32(at)
  return c.view.getBigUint64(at)
}

function readItem(c: Cursor, depth: number): CborValue {
  const start = c.pos
  need(c, 1, start)
  const initial = c.bytes[c.pos++] ?? 0
  const major = initial >> 5
  const info = initial & 0x1f
  if (major === 7) return readSimple(c, info, start)
  const arg = readArgument(c, info, start)
  switch (major) {
    case 0:
      return integer(c, typeof arg === 'bigint' ? arg : BigInt(arg), start)
    case 1:
      return integer(c, -1n - (typeof arg === 'bigint' ? arg : BigInt(arg)), start)
    case 2:
    case 3:
      return readString(c, major, arg, start)
    case 4:
    case 5:
      if (depth + 1 > c.options.maxDepth) {
        throw new ProtocolError(
          'PROTOCOL_TOO_LARGE',
          `CBOR at byte ${String(start)}: nesting deeper than ${String(c.options.maxDepth)}`,
          {
            details: { offset: start },
          },
        )
      }
      return major === 4 ? readArray(c, arg, depth + 1, start) : readMap(c, arg, depth + 1, start)
    default:
      throw unsupported(start, `tag ${String(arg)} (CBOR tags are not part of the protocol)`)
  }
}

function integer(c: Cursor, value: bigint, start: number): number | bigint {
  if (c.options.integers === 'bigint') return value
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw unsupported(start, `integer ${String(value)} is beyond ±2^53 - 1`)
  }
  return Number(value)
}

function length(c: Cursor, arg: number | bigint, perItem: number, start: number): number {
  // Each item takes at least `perItem` bytes, so a length the rest of the input cannot hold is a
  // lie: refuse it before allocating anything.
  const remaining = c.bytes.length - c.pos
  if (typeof arg === 'bigint' || arg * perItem > remaining) {
    throw malformed(
      start,
      `declared length ${String(arg)} exceeds the ${String(remaining)} bytes that remain`,
    )
  }
  return arg
}

function readString(
  c: Cursor,
  major: 2 | 3,
  arg: number | bigint,
  start: number,
): string | Uint8Array {
  const chunks: Uint8Array[] = []
  let dataStart = c.pos
  if (arg === INDEFINITE) {
    for (;;) {
      need(c, 1, start)
      if (c.bytes[c.pos] === BREAK) {
        c.pos++
        break
      }
      const chunkStart = c.pos
      const head = c.bytes[c.pos++] ?? 0
      if (head >> 5 !== major || (head & 0x1f) === 31)
        throw malformed(chunkStart, 'an indefinite-length string chunk of the wrong type')
      const chunkLength = readArgument(c, head & 0x1f, chunkStart)
      if (chunks.length === 0) dataStart = c.pos
      chunks.push(readBytes(c, chunkLength, chunkStart))
    }
  } else {
    dataStart = c.pos
    chunks.push(readBytes(c, arg, start))
  }
  const bytes = chunks.length === 1 ? (chunks[0] ?? new Uint8Array()) : concat(chunks)
  // The offset is exact for definite strings and for the first chunk of an indefinite one.
  return major === 2 ? bytes : decodeUtf8(bytes, `CBOR text at byte ${String(start)}`, dataStart)
}

function readBytes(c: Cursor, arg: number | bigint, start: number): Uint8Array {
  const n = length(c, arg, 1, start)
  const out = c.bytes.subarray(c.pos, c.pos + n)
  c.pos += n
  return out
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

function atBreak(c: Cursor, start: number): boolean {
  need(c, 1, start)
  if (c.bytes[c.pos] !== BREAK) return false
  c.pos++
  return true
}

function readArray(c: Cursor, arg: number | bigint, depth: number, start: number): CborValue[] {
  const out: CborValue[] = []
  if (arg === INDEFINITE) {
    while (!atBreak(c, start)) out.push(readItem(c, depth))
    return out
  }
  const n = length(c, arg, 1, start)
  for (let i = 0; i < n; i++) out.push(readItem(c, depth))
  return out
}

function readMap(c: Cursor, arg: number | bigint, depth: number, start: number): CborMap {
  const out: CborMap = {}
  const n = arg === INDEFINITE ? Infinity : length(c, arg, 2, start)
  for (let i = 0; i < n; i++) {
    if (arg === INDEFINITE && atBreak(c, start)) break
    const keyStart = c.pos
    const key = readItem(c, depth)
    if (typeof key !== 'string') throw unsupported(keyStart, 'map keys must be text strings')
    if (Object.hasOwn(out, key))
      throw malformed(keyStart, `duplicate map key ${JSON.stringify(key)}`)
    // defineProperty, not assignment: a key named "__proto__" must stay a plain own property.
    Object.defineProperty(out, key, {
      value: readItem(c, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

function readSimple(c: Cursor, info: number, start: number): CborValue {
  switch (info) {
    case 20:
      return false
    case 21:
      return true
    case 22:
      return null
    case 25:
      need(c, 2, start)
      c.pos += 2
      return halfToNumber(c.view.getUint16(c.pos - 2))
    case 26:
      need(c, 4, start)
      c.pos += 4
      return c.view.getFloat32(c.pos - 4)
    case 27:
      need(c, 8, start)
      c.pos += 8
      return c.view.getFloat64(c.pos - 8)
    case 31:
      throw malformed(start, 'a break code outside an indefinite-length item')
    case 28:
    case 29:
    case 30:
      throw malformed(start, `reserved additional information ${String(info)}`)
    default:
      throw unsupported(
        start,
        info === 23 ? 'undefined is not a protocol value' : `simple value ${String(info)}`,
      )
  }
}
