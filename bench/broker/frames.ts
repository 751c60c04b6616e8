// Splits a TCP byte stream into MQTT packets: fixed header byte, Remaining Length as a variable
// byte integer of at most 4 bytes [MQTT-2.2.3], then the body. Hands each packet to the consumer
// as offsets into the chunk (no copy) so counting a PUBLISH costs a few byte reads.

/** Receives whole packets: buf[start] is the fixed header byte, the body is [bodyStart, end). */
export interface FrameConsumer {
  onFrame(buf: Buffer, start: number, bodyStart: number, end: number, nowMs: number): void
}

const maxLengthBytes = 4

export class FrameReader {
  private readonly consumer: FrameConsumer
  /** Bytes of an incomplete packet left over from the previous chunk. */
  private rest: Buffer | null = null

  constructor(consumer: FrameConsumer) {
    this.consumer = consumer
  }

  /** Feeds one chunk; calls the consumer for every complete packet. Throws on a bad length. */
  push(chunk: Buffer, nowMs: number): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk])
    let at = 0
    while (at + 2 <= buf.length) {
      let length = 0
      let multiplier = 1
      let i = at + 1
      let complete = false
      while (i < buf.length) {
        const byte = buf[i] ?? 0
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        i += 1
        if (byte < 0x80) {
          complete = true
          break
        }
        if (i - at - 1 >= maxLengthBytes) throw new Error('Remaining Length longer than 4 bytes')
      }
      if (!complete || i + length > buf.length) break
      this.consumer.onFrame(buf, at, i, i + length, nowMs)
      at = i + length
    }
    // Copy the tail: keeping a view would pin the whole chunk until the next one arrives.
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : null
  }
}
