/**
 * The points of a sliding window, oldest first, with O(1) amortised count, sum, sum of squares,
 * min and max as points enter at the back and leave at the front (monotonic deques for min and
 * max). Sums are kept relative to a shift (the mean at the last recomputation) so the variance
 * does not cancel catastrophically on large values, and recomputed from the points once as many
 * points left as the window holds (amortised O(1)), so rounding errors do not pile up and the
 * shift stays near the values in the window.
 */
export class SlidingPoints {
  readonly capacity: number
  #ts: number[] = []
  #values: number[] = []
  #head = 0
  /** Sequence number of the point at #head. */
  #seq = 0
  #minQ: number[] = []
  #minHead = 0
  #maxQ: number[] = []
  #maxHead = 0
  #shift = 0
  #sum = 0
  #sumSq = 0
  #removals = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get count(): number {
    return this.#values.length - this.#head
  }

  /** Timestamp of the oldest point (undefined when empty). */
  get oldestTs(): number | undefined {
    return this.#ts[this.#head]
  }

  push(ts: number, value: number): void {
    if (this.count === 0) {
      this.#shift = value
      this.#sum = 0
      this.#sumSq = 0
    }
    const seq = this.#seq + this.count
    this.#ts.push(ts)
    this.#values.push(value)
    const d = value - this.#shift
    this.#sum += d
    this.#sumSq += d * d
    while (this.#minQ.length > this.#minHead && this.#at(this.#minQ[this.#minQ.length - 1]) > value)
      this.#minQ.pop()
    this.#minQ.push(seq)
    while (this.#maxQ.length > this.#maxHead && this.#at(this.#maxQ[this.#maxQ.length - 1]) < value)
      this.#maxQ.pop()
    this.#maxQ.push(seq)
  }

  /** Removes the oldest point. */
  shift(): void {
    if (this.count === 0) return
    const value = this.#values[this.#head] ?? 0
    const seq = this.#seq
    const d = value - this.#shift
    this.#sum -= d
    this.#sumSq -= d * d
    if (this.#minQ[this.#minHead] === seq) this.#minHead++
    if (this.#maxQ[this.#maxHead] === seq) this.#maxHead++
    this.#head++
    this.#seq++
    if (++this.#removals >= Math.max(this.count, 16)) this.#recompute()
    this.#compact()
  }

  /** Aggregates of the points now in the window (count > 0). */
  aggregates(): {
    count: number
    sum: number
    min: number
    max: number
    mean: number
    stddev: number
    first: number
    last: number
  } {
    const n = this.count
    const meanShifted = this.#sum / n
    const variance = Math.max(0, this.#sumSq / n - meanShifted * meanShifted)
    return {
      count: n,
      sum: this.#sum + n * this.#shift,
      min: this.#at(this.#minQ[this.#minHead]),
      max: this.#at(this.#maxQ[this.#maxHead]),
      mean: meanShifted + this.#shift,
      stddev: Math.sqrt(variance),
      first: this.#values[this.#head] ?? NaN,
      last: this.#values[this.#values.length - 1] ?? NaN,
    }
  }

  #at(seq: number | undefined): number {
    return this.#values[this.#head + (seq ?? 0) - this.#seq] ?? NaN
  }

  #recompute(): void {
    this.#removals = 0
    let total = 0
    for (let i = this.#head; i < this.#values.length; i++) total += this.#values[i] ?? 0
    this.#shift = this.count === 0 ? 0 : total / this.count
    let sum = 0
    let sumSq = 0
    for (let i = this.#head; i < this.#values.length; i++) {
      const d = (this.#values[i] ?? 0) - this.#shift
      sum += d
      sumSq += d * d
    }
    this.#sum = sum
    this.#sumSq = sumSq
  }

  /** Drops consumed array slots once they are the larger half, keeping memory ≈ 2 × capacity. */
  #compact(): void {
    if (this.#head < 64 || this.#head * 2 < this.#values.length) return
    this.#ts = this.#ts.slice(this.#head)
    this.#values = this.#values.slice(this.#head)
    this.#head = 0
    this.#minQ = this.#minQ.slice(this.#minHead)
    this.#minHead = 0
    this.#maxQ = this.#maxQ.slice(this.#maxHead)
    this.#maxHead = 0
  }
}
