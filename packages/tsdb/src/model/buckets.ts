import { TsdbError } from '../errors.js'
import { percentileOf } from './limits.js'
import type { Value, ValueType } from './points.js'
import type { AggregateFunction, Fill } from './queries.js'

/** Functions a rollup (count, sum, min, max per interval) can answer without raw points. */
const rollupFunctions = new Set(['count', 'sum', 'min', 'max', 'mean'])

/** Whether every function can be computed from rollups. */
export function rollupServes(functions: readonly AggregateFunction[]): boolean {
  return functions.every((fn) => rollupFunctions.has(fn))
}

/** Refuses functions that have no meaning for a value type (a mean of strings). */
export function checkFunctionsForType(
  functions: readonly AggregateFunction[],
  type: ValueType,
  series: string,
): void {
  if (type !== 'string') return
  for (const fn of functions) {
    if (fn !== 'count' && fn !== 'first' && fn !== 'last') {
      throw new TsdbError(
        'TSDB_QUERY_INVALID',
        `${fn} has no meaning for ${series}, which holds strings`,
        { hint: 'Strings support count, first and last.' },
      )
    }
  }
}

/** A value as a number for arithmetic: int64 as the nearest double, booleans as 0 and 1. */
export function numeric(value: Value): number {
  return typeof value === 'number'
    ? value
    : typeof value === 'boolean'
      ? value
        ? 1
        : 0
      : Number(value)
}

/**
 * The per-bucket accumulators of one group of an aggregate, dense over the query's buckets.
 * Points and rollup rows of any number of series are added; `finish` computes the functions.
 */
export class BucketAccumulator {
  readonly #first: number
  readonly #bucket: number
  readonly #count: Float64Array
  readonly #sum: Float64Array
  readonly #min: Float64Array
  readonly #max: Float64Array
  readonly #firstTime: Float64Array | undefined
  readonly #lastTime: Float64Array | undefined
  readonly #firstValue: (Value | undefined)[] | undefined
  readonly #lastValue: (Value | undefined)[] | undefined
  readonly #samples: (number[] | undefined)[] | undefined

  /** Buckets `floor(from / bucket)` … `floor((to - 1) / bucket)`. */
  constructor(from: number, to: number, bucket: number, functions: readonly AggregateFunction[]) {
    this.#bucket = bucket
    this.#first = Math.floor(from / bucket)
    const n = Math.floor((to - 1) / bucket) - this.#first + 1
    this.#count = new Float64Array(n)
    this.#sum = new Float64Array(n)
    this.#min = new Float64Array(n)
    this.#max = new Float64Array(n)
    const edges = functions.includes('first') || functions.includes('last')
    this.#firstTime = edges ? new Float64Array(n).fill(Infinity) : undefined
    this.#lastTime = edges ? new Float64Array(n).fill(-Infinity) : undefined
    this.#firstValue = edges ? new Array<Value | undefined>(n) : undefined
    this.#lastValue = edges ? new Array<Value | undefined>(n) : undefined
    const samples = functions.some((fn) => fn === 'stddev' || percentileOf(fn) !== undefined)
    this.#samples = samples ? new Array<number[] | undefined>(n) : undefined
  }

  get size(): number {
    return this.#count.length
  }

  /** The index of the bucket holding `time` (the caller keeps times inside the query range). */
  indexOf(time: number): number {
    return Math.floor(time / this.#bucket) - this.#first
  }

  /** The start time of bucket `index`. */
  timeOf(index: number): number {
    return (this.#first + index) * this.#bucket
  }

  addPoint(time: number, value: Value): void {
    const i = this.indexOf(time)
    if (typeof value !== 'string') {
      const x = numeric(value)
      this.#sum[i] = (this.#sum[i] as number) + x
      this.#extremes(i, x, x)
      if (this.#samples !== undefined) (this.#samples[i] ??= []).push(x)
    }
    this.#count[i] = (this.#count[i] as number) + 1
    if (this.#firstTime !== undefined && this.#lastTime !== undefined) {
      if (time < (this.#firstTime[i] as number)) {
        this.#firstTime[i] = time
        ;(this.#firstValue as (Value | undefined)[])[i] = value
      }
      if (time > (this.#lastTime[i] as number)) {
        this.#lastTime[i] = time
        ;(this.#lastValue as (Value | undefined)[])[i] = value
      }
    }
  }

  /**
   * Adds points `start` … `end - 1` of a time-sorted series. Plain numbers with no per-value
   * function asked for (no first, last, stddev, percentile) take a fast path that sums each
   * bucket's run in place; anything else goes point by point.
   */
  addSorted(times: readonly number[], values: readonly Value[], start: number, end: number): void {
    if (
      this.#samples !== undefined ||
      this.#firstTime !== undefined ||
      typeof values[start] !== 'number'
    ) {
      for (let i = start; i < end; i++) this.addPoint(times[i] as number, values[i] as Value)
      return
    }
    let i = start
    while (i < end) {
      const index = this.indexOf(times[i] as number)
      const bucketEnd = this.timeOf(index + 1)
      const first = values[i] as number
      let count = 0
      let sum = 0
      let min = first
      let max = first
      for (; i < end && (times[i] as number) < bucketEnd; i++) {
        const x = values[i] as number
        count++
        sum += x
        if (x < min || Number.isNaN(min)) min = x
        if (x > max || Number.isNaN(x)) max = x
      }
      this.addRollup(index, count, sum, min, max)
    }
  }

  /** Adds a rollup row (an interval wholly inside bucket `index`). */
  addRollup(index: number, count: number, sum: number, min: number, max: number): void {
    this.#sum[index] = (this.#sum[index] as number) + sum
    this.#extremes(index, min, max)
    this.#count[index] = (this.#count[index] as number) + count
  }

  /**
   * PostgreSQL's order, so both engines agree: NaN is above every number, so `max` is NaN when
   * any value is and `min` only when all are.
   */
  #extremes(i: number, min: number, max: number): void {
    const empty = this.#count[i] === 0
    const currentMin = this.#min[i] as number
    if (empty || min < currentMin || Number.isNaN(currentMin)) this.#min[i] = min
    if (empty || max > (this.#max[i] as number) || Number.isNaN(max)) this.#max[i] = max
  }

  /** The value of `fn` in bucket `i`, or null when the bucket is empty. */
  #value(fn: AggregateFunction, i: number): Value | null {
    const count = this.#count[i] as number
    if (fn === 'count') return count
    if (count === 0) return null
    switch (fn) {
      case 'sum':
        return this.#sum[i] as number
      case 'min':
        return this.#min[i] as number
      case 'max':
        return this.#max[i] as number
      case 'mean':
        return (this.#sum[i] as number) / count
      case 'first':
        return (this.#firstValue as (Value | undefined)[])[i] ?? null
      case 'last':
        return (this.#lastValue as (Value | undefined)[])[i] ?? null
      case 'stddev':
        return sampleStddev(this.#samples?.[i] ?? [])
      default:
        return percentile(this.#samples?.[i] ?? [], percentileOf(fn) ?? 0)
    }
  }

  /** Column-wise results with empty buckets filled as asked. */
  finish(
    functions: readonly AggregateFunction[],
    fill: Fill,
  ): { times: number[]; values: Record<string, (Value | null)[]> } {
    const keep: number[] = []
    for (let i = 0; i < this.size; i++)
      if (fill !== 'none' || (this.#count[i] as number) > 0) keep.push(i)
    const times = keep.map((i) => this.timeOf(i))
    const values: Record<string, (Value | null)[]> = {}
    for (const fn of functions) {
      const column = keep.map((i) => this.#value(fn, i))
      values[fn] = fn === 'count' ? column : fillColumn(column, times, fill)
    }
    return { times, values }
  }
}

/** Sample standard deviation (n − 1), like PostgreSQL's `stddev`; null below two values. */
export function sampleStddev(values: readonly number[]): number | null {
  const n = values.length
  if (n < 2) return null
  let mean = 0
  let m2 = 0
  for (let k = 0; k < n; k++) {
    const x = values[k] as number
    const delta = x - mean
    mean += delta / (k + 1)
    m2 += delta * (x - mean)
  }
  return Math.sqrt(m2 / (n - 1))
}

/** The p-quantile with linear interpolation between the closest ranks (`percentile_cont`). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  values.sort(byNumberNaNLast)
  const position = p * (values.length - 1)
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  const a = values[lower] as number
  const b = values[upper] as number
  return lower === upper ? a : a + (b - a) * (position - lower)
}

function byNumberNaNLast(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1
  return Number.isNaN(b) ? -1 : a - b
}

/** Replaces nulls in a column of bucket values as `fill` says. */
export function fillColumn(
  column: (Value | null)[],
  times: readonly number[],
  fill: Fill,
): (Value | null)[] {
  if (fill === 'none' || fill === 'null') return column
  if (typeof fill === 'number') return column.map((v) => v ?? fill)
  const out = column.slice()
  if (fill === 'previous') {
    let last: Value | null = null
    for (let i = 0; i < out.length; i++) {
      if (out[i] === null) out[i] = last
      else last = out[i] as Value
    }
    return out
  }
  // linear: between two known numeric neighbours; edges stay null
  let prev = -1
  for (let i = 0; i < out.length; i++) {
    if (out[i] === null) continue
    if (prev >= 0 && i - prev > 1) {
      const a = out[prev]
      const b = out[i]
      if (typeof a === 'number' && typeof b === 'number') {
        const t0 = times[prev] as number
        const span = (times[i] as number) - t0
        for (let k = prev + 1; k < i; k++)
          out[k] = a + ((b - a) * ((times[k] as number) - t0)) / span
      }
    }
    prev = i
  }
  return out
}
