/** What the reader holds between packets: one shared empty buffer, not one per connection. */
const nothing = Buffer.alloc(0)

/** Why a byte stream could not be split into MQTT packets. */
export type FrameError =
  | { readonly kind: 'too-large'; readonly bytes: number }
  | { readonly kind: 'not-connect'; readonly firstByte: number }
  | { readonly kind: 'malformed-length' }

/**
 * Splits a byte stream into whole MQTT control packets (fixed header + remaining length, MQTT 5
 * §2.1) before any packet parser sees them, so the size limit is enforced on the length prefix:
 * a client that announces 256 MiB is refused after 5 bytes, not after the broker buffered them
 * (Mosquitto CVE-2023-0809).
 */
export class FrameReader {
  private buffer: Buffer = nothing
  private failed = false
  /** Until the first packet, only a CONNECT, and no larger than this (Mosquitto CVE-2023-0809). */
  private awaitingConnect = true
  private readonly maxConnectBytes: number
  private readonly maxPacketBytes: number
  private readonly onFrame: (frame: Buffer) => void
  private readonly onError: (error: FrameError) => void

  constructor(
    maxPacketBytes: number,
    onFrame: (frame: Buffer) => void,
    onError: (error: FrameError) => void,
  ) {
    this.maxPacketBytes = maxPacketBytes
    this.onFrame = onFrame
    this.onError = onError
    this.maxConnectBytes = Math.min(maxPacketBytes, 262_144)
  }

  /** A getter, not the field: `onFrame` may stop the reader, which narrowing cannot see. */
  private get stopped(): boolean {
    return this.failed
  }

  /** Stops splitting: later bytes are ignored (the connection is closing). */
  stop(): void {
    this.failed = true
    this.buffer = nothing
  }

  /** Feeds received bytes; calls `onFrame` for each whole packet, in order. */
  push(chunk: Buffer): void {
    if (this.failed) return
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    let offset = 0
    while (!this.stopped) {
      const size = this.frameSize(offset)
      if (size === undefined || this.buffer.length - offset < size) break
      const frame = this.buffer.subarray(offset, offset + size)
      offset += size
      this.awaitingConnect = false
      this.onFrame(frame)
    }
    if (this.stopped) return
    this.buffer = offset === this.buffer.length ? nothing : this.buffer.subarray(offset)
  }

  /** Total size of the packet at `offset`, or undefined while its header is incomplete. */
  private frameSize(offset: number): number | undefined {
    const available = this.buffer.length - offset
    const first = this.buffer[offset] ?? 0
    // [MQTT-3.1.0-1] the first packet must be CONNECT: refuse anything else before buffering it.
    if (this.awaitingConnect && available > 0 && first !== 0x10) {
      this.fail({ kind: 'not-connect', firstByte: first })
      return undefined
    }
    const limit = this.awaitingConnect ? this.maxConnectBytes : this.maxPacketBytes
    let remaining = 0
    let multiplier = 1
    // [MQTT-1.5.5] the variable byte integer has at most 4 bytes.
    for (let i = 1; i <= 4; i++) {
      if (available <= i) return undefined
      const byte = this.buffer[offset + i] ?? 0
      remaining += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        const total = 1 + i + remaining
        if (total <= limit) return total
        this.fail({ kind: 'too-large', bytes: total })
        return undefined
      }
      multiplier *= 128
    }
    this.fail({ kind: 'malformed-length' })
    return undefined
  }

  private fail(error: FrameError): void {
    this.failed = true
    this.buffer = nothing
    this.onError(error)
    return undefined
  }
}
