import { corruptChunk } from './chunk-error.js'

/** True on little-endian hosts (every platform Node ships for today). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Reads a big-endian, MSB-first bit stream written by BitWriter. Reads past the end yield zero
 * bits instead of throwing, so hot loops need no bounds checks: decoders read a bounded number of
 * bits per value and call `check()` after each block, which throws once the position has run past
 * the real end. Every unary code in the format is ones ended by a zero, so zero padding always
 * ends it.
 */
export class BitReader {
  /** The stream as big-endian 32-bit words, padded with zeros. */
  readonly words: Uint32Array
  /** The stream's length in bits. */
  readonly limit: number
  /** The next bit to read. Decoders may advance it themselves after peeking. */
  pos = 0
  readonly #name: string

  constructor(bytes: Uint8Array, name: string) {
    this.#name = name
    this.limit = bytes.length * 8
    const padded = new Uint8Array(((bytes.length >>> 2) + 2) * 4)
    padded.set(bytes)
    const words = new Uint32Array(padded.buffer)
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < words.length; i++) {
        const w = words[i] ?? 0
        words[i] = ((w >>> 24) | ((w >>> 8) & 0xff00) | ((w & 0xff00) << 8) | (w << 24)) >>> 0
      }
    }
    this.words = words
  }

  /** The next 32 bits without consuming them. */
  peek(): number {
    const i = this.pos >>> 5
    const o = this.pos & 31
    const a = this.words[i] ?? 0
    if (o === 0) return a
    return ((a << o) | ((this.words[i + 1] ?? 0) >>> (32 - o))) >>> 0
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  read(n: number): number {
    if (n === 0) return 0
    const v = this.peek() >>> (32 - n)
    this.pos += n
    return v
  }

  /** Reads an unsigned number of `n` ≤ 53 bits. */
  readLong(n: number): number {
    if (n <= 32) return this.read(n)
    const hi = this.read(n - 32)
    return hi * 4294967296 + this.read(32)
  }

  /** Reads a single bit. */
  bit(): number {
    return this.read(1)
  }

  /** Throws TSDB_CHUNK_CORRUPT if reading has gone past the end of the stream. */
  check(): void {
    if (this.pos > this.limit) {
      throw corruptChunk(`${this.#name} section ends before its data (truncated or damaged)`, {
        section: this.#name,
        bitLength: this.limit,
      })
    }
  }

  /** Throws unless the stream was consumed up to its last (zero-padding) byte. */
  checkEnd(): void {
    this.check()
    if (this.limit - this.pos >= 8) {
      throw corruptChunk(`${this.#name} section has ${String(this.limit - this.pos)} unread bits`, {
        section: this.#name,
      })
    }
  }

  /** A TSDB_CHUNK_CORRUPT error naming this section. */
  corrupt(what: string): Error {
    return corruptChunk(`${this.#name} section: ${what}`, { section: this.#name, bit: this.pos })
  }
}
