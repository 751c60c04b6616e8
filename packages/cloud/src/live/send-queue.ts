/** Where a send queue writes: a WebSocket (`ws`), or a fake in tests. */
export interface FrameSink {
  /** Sends one text frame; `done` runs once it is handed to the OS (or failed). */
  send(data: string, done: (err?: Error | null) => void): void
}

export interface SendQueueOptions {
  /** Frames waiting at most (default 1,000). */
  readonly maxFrames: number
  /** Bytes of frames waiting at most (default 1 MiB). */
  readonly maxBytes: number
  /** Bytes handed to the socket but not yet to the OS, at most (default 64 KiB). */
  readonly inFlightBytes: number
}

export const defaultSendQueueOptions: SendQueueOptions = {
  maxFrames: 1000,
  maxBytes: 1024 * 1024,
  inFlightBytes: 64 * 1024,
}

interface Frame {
  readonly seq: number
  readonly data: string
  readonly bytes: number
}

/** A FIFO of frames with an O(1) shift. */
class Fifo {
  #items: Frame[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  peek(): Frame | undefined {
    return this.#items[this.#head]
  }

  push(frame: Frame): void {
    this.#items.push(frame)
  }

  shift(): Frame | undefined {
    const frame = this.#items[this.#head]
    if (frame === undefined) return undefined
    this.#head++
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return frame
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}

/**
 * The bounded send queue of one live-feed connection. Frames go to the socket while less than
 * `inFlightBytes` wait to reach the OS; the rest wait here, up to `maxFrames` and `maxBytes`.
 * Overflow policy: drop the oldest telemetry frames first (a newer reading supersedes an older
 * one), then, when only other frames wait, the oldest of those; the next frame the client gets is
 * `{"type":"dropped","count":N}`. A publisher never waits for a slow client.
 *
 * Telemetry and other frames wait in two FIFOs and leave in the order they came (by sequence
 * number), so dropping the oldest telemetry frame costs O(1).
 *
 * @example
 * const q = new SendQueue({ send: (d, done) => socket.send(d, done) }, { maxFrames: 100 })
 * q.push('{"type":"telemetry",…}', true)
 */
export class SendQueue {
  readonly #sink: FrameSink
  readonly #options: SendQueueOptions
  readonly #onSent: (frames: number) => void
  readonly #onDropped: (frames: number) => void
  readonly #telemetry = new Fifo()
  readonly #other = new Fifo()
  #seq = 0
  #bytes = 0
  #inFlight = 0
  #dropped = 0
  #closed = false

  constructor(
    sink: FrameSink,
    options: Partial<SendQueueOptions> = {},
    hooks: { onSent?: (frames: number) => void; onDropped?: (frames: number) => void } = {},
  ) {
    this.#sink = sink
    this.#options = { ...defaultSendQueueOptions, ...options }
    this.#onSent = hooks.onSent ?? (() => undefined)
    this.#onDropped = hooks.onDropped ?? (() => undefined)
  }

  /** Frames waiting (not yet handed to the socket). */
  get length(): number {
    return this.#telemetry.length + this.#other.length
  }

  /** Frames dropped and not yet reported to the client. */
  get unreportedDrops(): number {
    return this.#dropped
  }

  /** Queues a frame; `droppable` frames (telemetry) are the first to go when the queue is full. */
  push(data: string, droppable: boolean): void {
    if (this.#closed) return
    const frame = { seq: this.#seq++, data, bytes: Buffer.byteLength(data) }
    ;(droppable ? this.#telemetry : this.#other).push(frame)
    this.#bytes += frame.bytes
    let dropped = 0
    while (this.length > this.#options.maxFrames || this.#bytes > this.#options.maxBytes) {
      const victim = this.#telemetry.shift() ?? this.#other.shift()
      if (victim === undefined) break
      this.#bytes -= victim.bytes
      dropped++
    }
    if (dropped > 0) {
      this.#dropped += dropped
      this.#onDropped(dropped)
    }
    this.#pump()
  }

  /** Drops everything waiting; later pushes are ignored. */
  close(): void {
    this.#closed = true
    this.#telemetry.clear()
    this.#other.clear()
    this.#bytes = 0
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.#options.inFlightBytes) {
      if (this.#dropped > 0) {
        const notice = JSON.stringify({ type: 'dropped', count: this.#dropped })
        this.#dropped = 0
        this.#write(notice, Buffer.byteLength(notice))
        continue
      }
      const t = this.#telemetry.peek()
      const o = this.#other.peek()
      if (t === undefined && o === undefined) return
      const frame =
        o === undefined || (t !== undefined && t.seq < o.seq)
          ? this.#telemetry.shift()
          : this.#other.shift()
      if (frame === undefined) return
      this.#bytes -= frame.bytes
      this.#write(frame.data, frame.bytes)
    }
  }

  #write(data: string, bytes: number): void {
    this.#inFlight += bytes
    let sync = true
    this.#sink.send(data, (err) => {
      this.#inFlight -= bytes
      // A socket that failed takes no more frames; the connection closes the queue anyway.
      if (err !== undefined && err !== null) this.close()
      else this.#onSent(1)
      // A socket that calls back at once (nothing buffered) must not recurse into #pump.
      if (!sync) this.#pump()
    })
    sync = false
  }
}
