/**
 * A few reusable buffers for log records. A write's record lives only until its points are in
 * the head (a few ms); allocating a fresh one per write costs more than the copy into it: V8
 * counts every new buffer as external memory and, about every 64 MiB of them, runs a full
 * mark-compact of the whole JavaScript heap ("external memory pressure") — in a process that
 * holds a large heap, hundreds of ms each, several per second at a million points per second.
 * Reused buffers are allocated once.
 *
 * Bounded: at most `maxBuffers` kept, each at most `maxBytes` (a larger record gets a buffer of
 * its own, left to the garbage collector); a buffer not given back is simply not reused.
 */
export class RecordBuffers {
  readonly #free: Buffer[] = []
  readonly #maxBuffers: number
  readonly #maxBytes: number

  constructor(maxBuffers = 8, maxBytes = 4 * 1024 * 1024) {
    this.#maxBuffers = maxBuffers
    this.#maxBytes = maxBytes
  }

  /**
   * A buffer of exactly `size` bytes at offset 0 of its own ArrayBuffer (so typed-array views of
   * it are 8-byte aligned); its contents are not cleared.
   */
  take(size: number): Buffer {
    for (let i = 0; i < this.#free.length; i++) {
      const buffer = this.#free[i] as Buffer
      if (buffer.length >= size) {
        this.#free.splice(i, 1)
        return buffer.subarray(0, size)
      }
    }
    if (size > this.#maxBytes) return Buffer.allocUnsafeSlow(size)
    // Room to grow: the next records of a steady writer are about as large.
    const capacity = Math.min(this.#maxBytes, Math.max(size + (size >> 2), 64 * 1024))
    return Buffer.allocUnsafeSlow(capacity).subarray(0, size)
  }

  /** Gives back a buffer from {@link take} that nothing reads any more (a view of it neither). */
  give(buffer: Buffer): void {
    const whole = Buffer.from(buffer.buffer, 0, buffer.buffer.byteLength)
    if (buffer.byteOffset !== 0 || whole.length > this.#maxBytes) return
    if (this.#free.length >= this.#maxBuffers) {
      // Keep the larger ones: they fit any record the smaller ones fit.
      let smallest = 0
      for (let i = 1; i < this.#free.length; i++)
        if ((this.#free[i] as Buffer).length < (this.#free[smallest] as Buffer).length) smallest = i
      if ((this.#free[smallest] as Buffer).length >= whole.length) return
      this.#free.splice(smallest, 1)
    }
    this.#free.push(whole)
  }
}
