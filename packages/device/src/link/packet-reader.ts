import mqttPacket, { type Packet, type Parser } from 'mqtt-packet'

/**
 * Splits a connection's bytes into whole MQTT packets and parses each with one `mqtt-packet`
 * parser per protocol version, shared by every connection of the process.
 *
 * Why not one parser per connection, as MQTT.js has: a parser is an EventEmitter with a
 * BufferList and a packet object, about 1 KiB of heap per connection, and it keeps partial
 * packets in its list. Here a connection keeps only the bytes of an incomplete packet (usually
 * none). The shared parser is fed exactly one whole packet at a time and emits it synchronously,
 * so it is always empty between calls and can serve any connection.
 */

/** The outcome of parsing one whole packet. */
type ParseResult = { readonly packet: Packet } | { readonly error: Error }

/** A parser fed whole packets, one at a time. */
class FrameParser {
  #parser: Parser
  readonly #version: 4 | 5
  #packet: Packet | undefined
  #error: Error | undefined

  constructor(version: 4 | 5) {
    this.#version = version
    this.#parser = this.#create()
  }

  #create(): Parser {
    const parser = mqttPacket.parser({ protocolVersion: this.#version })
    parser.on('packet', (packet: Packet) => {
      this.#packet = packet
    })
    parser.on('error', (err: unknown) => {
      this.#error = err instanceof Error ? err : new Error(String(err))
    })
    return parser
  }

  #outcome(): { packet: Packet | undefined; error: Error | undefined } {
    return { packet: this.#packet, error: this.#error }
  }

  parse(frame: Buffer): ParseResult {
    this.#packet = undefined
    this.#error = undefined
    const left = this.#parser.parse(frame)
    // Read back through a method: the parser's listeners set the fields during parse().
    const { packet, error } = this.#outcome()
    // An error, or bytes the parser did not use, leave state behind: start a fresh parser.
    if (error !== undefined || left !== 0 || packet === undefined) {
      this.#parser.removeAllListeners()
      this.#parser = this.#create()
      return { error: error ?? new Error('the packet is longer than its content') }
    }
    return { packet }
  }
}

const parsers = { 4: new FrameParser(4), 5: new FrameParser(5) }

/** Parses one whole packet (fixed header included) with the shared parser of `version`. */
export function parseFrame(frame: Buffer, version: 4 | 5): ParseResult {
  return parsers[version].parse(frame)
}

/** Where the bytes of an incomplete packet are kept between reads, and who gets whole ones. */
export interface FrameSink {
  /** Bytes of the packet that is not complete yet; null when none. */
  pending: Buffer | null
  /** Called with each whole packet in order; returns false to stop (the link closed). */
  onFrame(frame: Buffer): boolean
  /** Called once when the bytes cannot be MQTT; reading stops. */
  onFrameError(message: string): void
}

/**
 * Appends `chunk` to what `sink` had pending and hands out every whole packet. A packet whose
 * remaining length is malformed or larger than `maxBytes` is an error: MQTT has no way to skip it.
 */
export function readFrames(sink: FrameSink, chunk: Buffer, maxBytes: number): void {
  const buf = sink.pending === null ? chunk : Buffer.concat([sink.pending, chunk])
  sink.pending = null
  let offset = 0
  while (offset < buf.length) {
    // Remaining length: 1–4 bytes of 7 bits each, low group first (MQTT 2.2.3).
    let length = 0
    let multiplier = 1
    let at = offset + 1
    let complete = false
    for (let i = 0; i < 4 && at < buf.length; i++, at++) {
      const byte = buf[at] as number
      length += (byte & 0x7f) * multiplier
      multiplier *= 128
      if ((byte & 0x80) === 0) {
        complete = true
        at++
        break
      }
    }
    if (!complete) {
      if (at - offset - 1 >= 4) {
        sink.onFrameError('malformed remaining length')
        return
      }
      break // the length itself is not complete yet
    }
    const end = at + length
    if (end - offset > maxBytes) {
      sink.onFrameError(
        `a packet of ${String(end - offset)} bytes is over the ${String(maxBytes)} limit`,
      )
      return
    }
    if (end > buf.length) break
    const frame = buf.subarray(offset, end)
    offset = end
    if (!sink.onFrame(frame)) return
  }
  // Copy the tail: a subarray would keep the whole read buffer alive.
  if (offset < buf.length) sink.pending = Buffer.from(buf.subarray(offset))
}
