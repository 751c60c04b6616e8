import { ProtocolError } from '../../errors/protocol-error.js'
import type { CborValue } from './decode-cbor.js'
import { numberToHalf } from './half-float.js'

export interface CborEncodeOptions {
  /**
   * How JS numbers are written: `float` always as a float (telemetry, where a number is a
   * float64 and integers travel as bigint), `auto` safe integers as CBOR integers (documents).
   */
  readonly numbers: 'float' | 'auto'
}

const encoder = new TextEncoder()

/** A growable byte buffer; CBOR heads are written big-endian (RFC 8949 §3). */
class ByteWriter {
  private buffer = new Uint8Array(256)
  private view = new DataView(this.buffer.buffer)
  length = 0

  reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n))
      next.set(this.buffer.subarray(0, this.length))
      this.buffer = next
      this.view = new DataView(next.buffer)
    }
    const at = this.length
    this.length += n
    return at
  }

  // reserve() may replace this.buffer: call it before reading the field.
  byte(b: number): void {
    const at = this.reserve(1)
    this.buffer[at] = b
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length)
    this.buffer.set(b, at)
  }

  uint(width: 2 | 4 | 8, value: number | bigint): void {
    const at = this.reserve(width)
    if (width === 2) this.view.setUint16(at, Number(value))
    else if (width === 4) this.view.setUint32(at, Number(value))
    else this.view.setBigUint64(at, BigInt(value))
  }

  float(width: 4 | 8, value: number): void {
    const at = this.reserve(width)
    if (width === 4) this.view.setFloat32(at, value)
    else this.view.setFloat64(at, value)
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

/**
 * Encodes a value as CBOR in preferred serialisation (RFC 8949 §4.1): shortest heads, and each
 * float in the shortest of binary16/32/64 that holds it exactly. Map keys keep insertion order.
 *
 * @example
 * encodeCbor({ t: 21.5 }, { numbers: 'float' }) // a1 61 74 f9 4d 60
 */
export function encodeCbor(
  value: CborValue,
  options: CborEncodeOptions = { numbers: 'auto' },
): Uint8Array {
  const w = new ByteWriter()
  writeItem(w, value, options, 0)
  return w.result()
}

function head(w: ByteWriter, major: number, arg: number | bigint): void {
  const m = major << 5
  if (arg < 24) w.byte(m | Number(arg))
  else if (arg < 0x100) {
    w.byte(m | 24)
    w.byte(Number(arg))
  } else if (arg < 0x10000) {
    w.byte(m | 25)
    w.uint(2, arg)
  } else if (arg < 0x100000000) {
    w.byte(m | 26)
    w.uint(4, arg)
  } else {
    w.byte(m | 27)
    w.uint(8, arg)
  }
}

const maxEncodeDepth = 64

function writeItem(
  w: ByteWriter,
  value: CborValue,
  options: CborEncodeOptions,
  depth: number,
): void {
  if (depth > maxEncodeDepth)
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `value nests deeper than ${String(maxEncodeDepth)}`,
    )
  if (value === null) return w.byte(0xf6)
  if (value === false) return w.byte(0xf4)
  if (value === true) return w.byte(0xf5)
  if (typeof value === 'bigint') return writeInteger(w, value)
  if (typeof value === 'number') {
    if (options.numbers === 'auto' && Number.isSafeInteger(value) && !Object.is(value, -0))
      return writeInteger(w, BigInt(value))
    return writeFloat(w, value)
  }
  if (typeof value === 'string') {
    const bytes = encoder.encode(value)
    head(w, 3, bytes.length)
    return w.bytes(bytes)
  }
  if (value instanceof Uint8Array) {
    head(w, 2, value.length)
    return w.bytes(value)
  }
  if (Array.isArray(value)) {
    head(w, 4, value.length)
    for (const item of value) writeItem(w, item, options, depth + 1)
    return
  }
  const entries = Object.entries(value)
  head(w, 5, entries.length)
  for (const [key, item] of entries) {
    writeItem(w, key, options, depth + 1)
    writeItem(w, item, options, depth + 1)
  }
}

function writeInteger(w: ByteWriter, value: bigint): void {
  if (value >= 0n) {
    if (value > 0xffffffffffffffffn)
      throw new ProtocolError('PROTOCOL_UNSUPPORTED', `integer ${String(value)} exceeds 64 bits`)
    return head(w, 0, value)
  }
  const arg = -1n - value
  if (arg > 0xffffffffffffffffn)
    throw new ProtocolError('PROTOCOL_UNSUPPORTED', `integer ${String(value)} exceeds 64 bits`)
  head(w, 1, arg)
}

function writeFloat(w: ByteWriter, value: number): void {
  const half = numberToHalf(value)
  if (half !== undefined) {
    w.byte(0xf9)
    return w.uint(2, half)
  }
  if (Math.fround(value) === value) {
    w.byte(0xfa)
    return w.float(4, value)
  }
  w.byte(0xfb)
  w.float(8, value)
}
