import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { mergePoints, SeriesHead, sortLastWins } from './head.js'

/** The reference: a map from time to the last value written, sorted by time. */
function reference(times: readonly number[], values: readonly number[]): [number, number][] {
  const map = new Map<number, number>()
  times.forEach((t, i) => map.set(t, values[i] as number))
  return [...map].sort(([a], [b]) => a - b)
}

const points = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer()), { maxLength: 80 })
  .map((pairs) => ({ times: pairs.map(([t]) => t), values: pairs.map(([, v]) => v) }))

describe('head ordering', () => {
  it('sorts by time and keeps the last write of a timestamp', () => {
    fc.assert(
      fc.property(points, ({ times, values }) => {
        const sorted = sortLastWins(times, values)
        assert.deepEqual(
          sorted.times.map((t, i) => [t, sorted.values[i]]),
          reference(times, values),
        )
      }),
    )
  })

  it('merges two sorted lists, the newer winning on equal times', () => {
    fc.assert(
      fc.property(points, points, (a, b) => {
        const older = sortLastWins(a.times, a.values)
        const newer = sortLastWins(b.times, b.values)
        const merged = mergePoints(older, newer)
        assert.deepEqual(
          merged.times.map((t, i) => [t, merged.values[i]]),
          reference([...a.times, ...b.times], [...a.values, ...b.values]),
        )
      }),
    )
  })

  it('gives the same points however they were appended', () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 1, max: 5 }), (p, parts) => {
        const head = new SeriesHead()
        const size = Math.ceil(p.times.length / parts)
        for (let i = 0; i < p.times.length; i += size) {
          head.append(p.times.slice(i, i + size), p.values.slice(i, i + size))
        }
        const expected = reference(p.times, p.values)
        const got = head.points()
        assert.deepEqual(
          got.times.map((t, i) => [t, got.values[i]]),
          expected,
        )
      }),
    )
  })
})
