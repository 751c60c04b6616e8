import { checkPositive, invalidOptions } from './operator-options.js'

/** What happens when a new key arrives and `maxKeys` are tracked already. */
export type KeyOverflow = 'evict-oldest' | 'reject'

/** Options of a {@link KeyedState}. */
export interface KeyedStateOptions {
  /** Most keys tracked at once. */
  readonly maxKeys: number
  /**
   * `evict-oldest`: forget the least recently used key (its window, deadband…) to make room.
   * `reject`: keep the keys there are and ignore the new one (heartbeats use this: evicting the
   * least recently seen key would forget exactly the silent device it should report).
   */
  readonly overflow: KeyOverflow
}

export const defaultMaxKeys = 10_000

/**
 * Per-key state (one operator instance per device and metric) with a bounded number of keys and
 * a documented overflow policy. A `Map` keeps insertion order, so moving a key to the end on use
 * makes its first key the least recently used.
 *
 * @example
 * const windows = new KeyedState<Window>({ maxKeys: 2, overflow: 'evict-oldest' })
 * windows.getOrCreate('pump-7/temp', () => new Window({ mode: 'sliding', count: 10 }))
 */
export class KeyedState<T> {
  readonly maxKeys: number
  readonly overflow: KeyOverflow
  readonly #entries = new Map<string, T>()
  /**
   * The key used last and its state: it is already the most recent in `#entries`, so using it
   * again needs no reordering (a device's batch of records steps the same key many times over).
   */
  #lastKey: string | undefined
  #lastState: T | undefined
  #evicted = 0
  #rejected = 0

  constructor(options: KeyedStateOptions) {
    this.maxKeys = checkPositive('maxKeys', options.maxKeys, { integer: true })
    if (!['evict-oldest', 'reject'].includes(options.overflow)) {
      throw invalidOptions(
        'overflow',
        `overflow is evict-oldest or reject, got ${options.overflow as string}`,
      )
    }
    this.overflow = options.overflow
  }

  get size(): number {
    return this.#entries.size
  }

  /** Keys forgotten to make room, and new keys refused, since creation. */
  get stats(): { keys: number; evicted: number; rejected: number } {
    return { keys: this.#entries.size, evicted: this.#evicted, rejected: this.#rejected }
  }

  /** The state of `key` without marking it used. */
  peek(key: string): T | undefined {
    return key === this.#lastKey ? this.#lastState : this.#entries.get(key)
  }

  /** The state of `key`, created when new; undefined when new and refused (`reject` when full). */
  getOrCreate(key: string, create: () => T): T | undefined {
    if (key === this.#lastKey) return this.#lastState
    const found = this.#entries.get(key)
    if (found !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, found)
      this.#lastKey = key
      this.#lastState = found
      return found
    }
    if (this.#entries.size >= this.maxKeys) {
      if (this.overflow === 'reject') {
        this.#rejected++
        return undefined
      }
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
      this.#evicted++
    }
    const state = create()
    this.#entries.set(key, state)
    this.#lastKey = key
    this.#lastState = state
    return state
  }

  delete(key: string): boolean {
    if (key === this.#lastKey) this.#forgetLast()
    return this.#entries.delete(key)
  }

  clear(): void {
    this.#forgetLast()
    this.#entries.clear()
  }

  #forgetLast(): void {
    this.#lastKey = undefined
    this.#lastState = undefined
  }

  entries(): IterableIterator<[string, T]> {
    return this.#entries.entries()
  }
}
