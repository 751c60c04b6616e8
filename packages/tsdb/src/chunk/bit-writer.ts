/** 2^32, to split numbers of up to 53 bits into two 32-bit halves. */
export const TWO_POW_32 = 4294967296

/**
 * An append-only, MSB-first bit stream. Bits collect in a 32-bit word that is pushed to a
 * growing Uint32Array when full; `finish()` returns the words as big-endian bytes, so a reader
 * can load any 32-bit window with two word reads.
 */
export class BitWriter {
  #words: Uint32Array
  #count = 0
  #cur = 0
  #used = 0

  /** `sizeHint`: roughly the words the stream will take; the buffer grows past it as needed. */
  constructor(sizeHint = 64) {
    this.#words = new Uint32Array(Math.max(8, Math.min(sizeHint, 1 << 16)))
  }

  /** The number of bits written so far. */
  get bitLength(): number {
    return this.#count * 32 + this.#used
  }

  /** Appends the low `n` bits of `value` (0 ≤ n ≤ 32, 0 ≤ value < 2^n). */
  write(value: number, n: number): void {
    if (n === 0) return
    const free = 32 - this.#used
    if (n < free) {
      this.#cur |= value << (free - n)
      this.#used += n
      return
    }
    const rest = n - free
    this.#push((this.#cur | (value >>> rest)) >>> 0)
    this.#cur = rest === 0 ? 0 : value << (32 - rest)
    this.#used = rest
  }

  /** Appends an unsigned integer of up to 53 bits in `n` bits. */
  writeLong(value: number, n: number): void {
    if (n <= 32) {
      this.write(value >>> 0, n)
      return
    }
    this.write(Math.floor(value / TWO_POW_32), n - 32)
    this.write(value >>> 0, 32)
  }

  /** Appends the 64 bits of a float exactly as stored (any NaN payload, -0 included). */
  writeFloatBits(hi: number, lo: number): void {
    this.write(hi, 32)
    this.write(lo, 32)
  }

  /** Returns the stream as bytes; the last byte is zero-padded. The writer stays usable. */
  finish(): Uint8Array {
    const bytes = new Uint8Array(Math.ceil(this.bitLength / 8))
    const view = new DataView(bytes.buffer)
    const full = this.#count
    for (let i = 0; i < full; i++) view.setUint32(i * 4, this.#words[i] ?? 0)
    let tail = this.#cur >>> 0
    for (let b = full * 4; b < bytes.length; b++) {
      bytes[b] = tail >>> 24
      tail = (tail << 8) >>> 0
    }
    return bytes
  }

  #push(word: number): void {
    if (this.#count === this.#words.length) {
      const grown = new Uint32Array(this.#words.length * 2)
      grown.set(this.#words)
      this.#words = grown
    }
    this.#words[this.#count++] = word
  }
}
