/**
 * A least-recently-used cache of decoded chunks and rollups, bounded by an estimate of their
 * size in memory. Chunk ids are never reused (a rewritten chunk gets a new id), so nothing in
 * the cache goes stale; replaced chunks just age out.
 */
export class ChunkCache<T> {
  readonly #entries = new Map<number, { value: T; bytes: number }>()
  readonly #budget: number
  #bytes = 0

  constructor(budgetBytes: number) {
    this.#budget = budgetBytes
  }

  get(id: number, load: () => { value: T; bytes: number }): T {
    const hit = this.#entries.get(id)
    if (hit !== undefined) {
      this.#entries.delete(id)
      this.#entries.set(id, hit)
      return hit.value
    }
    const loaded = load()
    if (loaded.bytes <= this.#budget / 4) {
      this.#entries.set(id, loaded)
      this.#bytes += loaded.bytes
      for (const [key, entry] of this.#entries) {
        if (this.#bytes <= this.#budget) break
        this.#entries.delete(key)
        this.#bytes -= entry.bytes
      }
    }
    return loaded.value
  }
}
