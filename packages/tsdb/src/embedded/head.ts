import type { ChunkValues } from '../chunk/index.js'
import type { Value, ValueType } from '../model/points.js'

/** Points in time order, one value per timestamp. */
export interface SortedPoints {
  readonly times: number[]
  readonly values: Value[]
}

/**
 * Points of one series in time order as typed columns, the form the chunk encoder takes:
 * float64 times; values as Float64Array (float), BigInt64Array (int), Uint8Array of 0/1 (bool)
 * or string[].
 */
export interface Columns {
  readonly times: Float64Array
  readonly values: ChunkValues
}

/**
 * The in-memory head of one series: points written since they were last sealed, kept in typed
 * columns (no object per point: a head of millions of points costs the garbage collector
 * nothing), in arrival order until someone reads them, then sorted with the last write of each
 * timestamp winning.
 */
export class SeriesHead {
  readonly type: ValueType
  #times: Float64Array = new Float64Array(0)
  #values: ChunkValues
  #n = 0
  #sorted = true
  /** The newest time appended: a point at or before it makes the head unsorted. */
  #max = -Infinity
  /** The points as arrays for readers, made on demand and kept until the head changes. */
  #arrays: SortedPoints | undefined
  /**
   * Points handed to a seal that runs in the background: still the head's (readers see them)
   * until their chunks are stored ({@link sealed}) or the seal fails ({@link unseal}).
   */
  #sealing: Columns | undefined
  /** Every point, sealing and live, for readers while a seal runs (kept until a change). */
  #merged: Columns | undefined

  constructor(type: ValueType) {
    this.type = type
    this.#values = allocValues(type, 0)
  }

  /** Points in the head, those being sealed included. */
  get size(): number {
    return this.#n + (this.#sealing?.times.length ?? 0)
  }

  /** Points in the head that no seal has taken. */
  get liveSize(): number {
    return this.#n
  }

  /** Appends points; typed columns (a log record's views) are copied in bulk. */
  append(times: ArrayLike<number>, values: ArrayLike<Value> | ChunkValues): void {
    const n = times.length
    if (n === 0) return
    const at = this.#n
    this.#reserve(at + n)
    const ts = this.#times
    ts.set(times, at)
    let max = this.#max
    let sorted = this.#sorted
    for (let i = at; i < at + n; i++) {
      const t = ts[i] as number
      if (t <= max) sorted = false
      else max = t
    }
    const column = this.#values
    if (column instanceof Float64Array) column.set(values as ArrayLike<number>, at)
    else if (column instanceof BigInt64Array) column.set(values as ArrayLike<bigint>, at)
    else if (column instanceof Uint8Array) {
      if (values instanceof Uint8Array) column.set(values, at)
      else
        for (let i = 0; i < n; i++) column[at + i] = values[i] === true || values[i] === 1 ? 1 : 0
    } else for (let i = 0; i < n; i++) column.push(values[i] as string)
    this.#n = at + n
    this.#max = max
    this.#sorted = sorted
    this.#changed()
  }

  #changed(): void {
    this.#arrays = undefined
    this.#merged = undefined
  }

  #reserve(size: number): void {
    if (this.#times.length >= size) return
    this.#grow(Math.max(size, 2 * this.#times.length, 64), this.#n)
  }

  /** Moves the first `n` points to new columns of `capacity` (not cleared: only [0, n) is read). */
  #grow(capacity: number, n: number): void {
    const times = uncleared(Float64Array, capacity)
    times.set(this.#times.subarray(0, n))
    this.#times = times
    const column = this.#values
    if (Array.isArray(column)) return
    if (column instanceof BigInt64Array) {
      const values = uncleared(BigInt64Array, capacity)
      values.set(column.subarray(0, n))
      this.#values = values
    } else if (column instanceof Float64Array) {
      const values = uncleared(Float64Array, capacity)
      values.set(column.subarray(0, n))
      this.#values = values
    } else {
      const values = uncleared(Uint8Array, capacity)
      values.set(column.subarray(0, n))
      this.#values = values
    }
  }

  /**
   * Every point sorted and de-duplicated (those being sealed lose to live ones at equal times),
   * as views of the head (valid until it changes).
   */
  columns(): Columns {
    const live = this.live()
    if (this.#sealing === undefined) return live
    this.#merged ??= sortColumnsLastWins(concatColumns(this.type, [this.#sealing, live]))
    return this.#merged
  }

  /** The points no seal has taken, sorted and de-duplicated, as views of the head. */
  live(): Columns {
    if (!this.#sorted) {
      const sorted = sortColumnsLastWins(this.#view())
      this.#times = sorted.times
      this.#values = sorted.values
      this.#n = sorted.times.length
      this.#sorted = true
    }
    return this.#view()
  }

  #view(): Columns {
    const n = this.#n
    const v = this.#values
    return {
      times: this.#times.subarray(0, n),
      values: Array.isArray(v) ? (v.length === n ? v : v.slice(0, n)) : v.subarray(0, n),
    }
  }

  /** The points sorted and de-duplicated, as arrays for readers (kept until the head changes). */
  points(): SortedPoints {
    if (this.#arrays === undefined) {
      const { times, values } = this.columns()
      this.#arrays = { times: Array.from(times), values: valuesToArray(this.type, values) }
    }
    return this.#arrays
  }

  /** Replaces the head's points with `keep` (sorted, de-duplicated; copied): what a seal left. */
  replace(keep: Columns): void {
    const n = keep.times.length
    if (n > 0 && !Array.isArray(keep.values)) {
      // A head that keeps points will grow as it did: new columns as large as the old ones
      // (the old ones stay as they are, for views of them such as a seal's).
      const capacity = Math.max(n, this.#times.length)
      this.#times = keep.times
      this.#values = keep.values
      this.#grow(capacity, n)
    } else {
      this.#times = keep.times.slice()
      this.#values = Array.isArray(keep.values) ? keep.values.slice() : keep.values.slice()
    }
    this.#n = n
    this.#sorted = true
    this.#max = n === 0 ? -Infinity : (keep.times[n - 1] as number)
    this.#changed()
  }

  /**
   * Hands `seal` (points of {@link live}, which it may view) to a background seal and keeps
   * `keep` live; appends go on meanwhile. One seal at a time.
   */
  detach(keep: Columns, seal: Columns): void {
    this.replace(keep)
    this.#sealing = seal
  }

  /** The background seal stored its chunks: the points it took leave the head. */
  sealed(): void {
    this.#sealing = undefined
    this.#changed()
  }

  /** The background seal failed: the points it took are live again (older than any since). */
  unseal(): void {
    const sealing = this.#sealing
    if (sealing === undefined) return
    this.#sealing = undefined
    const all = concatColumns(this.type, [sealing, this.#view()])
    this.#times = all.times
    this.#values = all.values
    this.#n = all.times.length
    this.#sorted = false
    this.#changed()
  }
}

/** An empty value column of a type, `n` long (strings: an empty array). */
export function allocValues(type: ValueType, n: number): ChunkValues {
  switch (type) {
    case 'float':
      return new Float64Array(n)
    case 'int':
      return new BigInt64Array(n)
    case 'bool':
      return new Uint8Array(n)
    case 'string':
      return []
  }
}

/** A value column as the `Value`s readers take (bools as booleans). */
export function valuesToArray(type: ValueType, values: ChunkValues): Value[] {
  if (type === 'bool') return Array.from(values as Uint8Array, (v) => v === 1)
  if (Array.isArray(values)) return values
  return Array.from(values as ArrayLike<number | bigint>)
}

/** Sorted points as columns of a type. */
export function pointsToColumns(type: ValueType, points: SortedPoints): Columns {
  const times = Float64Array.from(points.times)
  const n = points.times.length
  const values = allocValues(type, n)
  if (values instanceof Float64Array) values.set(points.values as number[])
  else if (values instanceof BigInt64Array) values.set(points.values as bigint[])
  else if (values instanceof Uint8Array) {
    for (let i = 0; i < n; i++) values[i] = points.values[i] === true ? 1 : 0
  } else return { times, values: points.values as string[] }
  return { times, values }
}

/** Points [from, to) of columns, sharing their memory where the column type allows. */
export function sliceColumns(cols: Columns, from: number, to: number): Columns {
  const v = cols.values
  return {
    times: cols.times.subarray(from, to),
    values: Array.isArray(v) ? v.slice(from, to) : v.subarray(from, to),
  }
}

/** Joins columns that are already in order and do not overlap. */
export function concatColumns(type: ValueType, parts: readonly Columns[]): Columns {
  if (parts.length === 1) return parts[0] as Columns
  const n = parts.reduce((sum, p) => sum + p.times.length, 0)
  const times = new Float64Array(n)
  const values = allocValues(type, n)
  let at = 0
  for (const p of parts) {
    times.set(p.times, at)
    if (Array.isArray(values)) for (const v of p.values as string[]) values.push(v)
    else if (values instanceof BigInt64Array) values.set(p.values as BigInt64Array, at)
    else (values as Float64Array).set(p.values as Float64Array, at)
    at += p.times.length
  }
  return { times, values }
}

/** Sorts columns by time; of equal timestamps the one written last (highest index) wins. */
function sortColumnsLastWins(cols: Columns): Columns {
  const n = cols.times.length
  const { times } = cols
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b)
  let kept = 0
  for (let k = 0; k < n; k++) {
    const i = order[k] as number
    const next = order[k + 1]
    if (next !== undefined && times[next] === times[i]) continue
    order[kept++] = i
  }
  const outTimes = new Float64Array(kept)
  for (let k = 0; k < kept; k++) outTimes[k] = times[order[k] as number] as number
  const v = cols.values
  if (Array.isArray(v)) {
    const out: string[] = []
    for (let k = 0; k < kept; k++) out.push(v[order[k] as number] as string)
    return { times: outTimes, values: out }
  }
  if (v instanceof BigInt64Array) {
    const out = new BigInt64Array(kept)
    for (let k = 0; k < kept; k++) out[k] = v[order[k] as number] as bigint
    return { times: outTimes, values: out }
  }
  const out = v instanceof Uint8Array ? new Uint8Array(kept) : new Float64Array(kept)
  for (let k = 0; k < kept; k++) out[k] = v[order[k] as number] as number
  return { times: outTimes, values: out }
}

/**
 * A typed array of `n` entries whose memory is not cleared first (`Buffer.allocUnsafeSlow`): a
 * head writes every entry it reads, and clearing (and the page faults of fresh memory) cost more
 * than the copies into it at millions of points.
 */
function uncleared<T extends Float64Array | BigInt64Array | Uint8Array>(
  kind: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
  n: number,
): T {
  return new kind(Buffer.allocUnsafeSlow(n * kind.BYTES_PER_ELEMENT).buffer, 0, n)
}
