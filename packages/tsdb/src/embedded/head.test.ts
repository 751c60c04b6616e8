import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { Value, ValueType } from '../model/points.js'
import { SeriesHead } from './head.js'
import { mergePoints, sortLastWins } from './sorted-points.js'
import { carriedRecords, sealEverything, sealWholeChunks } from './seal-plan.js'
import { decodeWriteRecord } from './wal-record.js'

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
        const head = new SeriesHead('float')
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

  it('keeps every value type in typed columns and gives them back as written', () => {
    const values: Record<ValueType, (i: number) => Value> = {
      float: (i) => i / 10,
      int: (i) => BigInt(i) * 10_000_000_000n,
      bool: (i) => i % 3 === 0,
      string: (i) => `s${String(i % 4)}`,
    }
    for (const [type, valueOf] of Object.entries(values) as [ValueType, (i: number) => Value][]) {
      const head = new SeriesHead(type)
      // Out of order, with a rewrite of time 5: the later write wins.
      const times = [9, 3, 5, 1, 5, 7]
      head.append(times.slice(0, 3), times.slice(0, 3).map(valueOf))
      head.append(times.slice(3), [1, 99, 7].map(valueOf))
      const got = head.points()
      assert.deepEqual(got.times, [1, 3, 5, 7, 9], type)
      assert.deepEqual(got.values, [1, 3, 99, 7, 9].map(valueOf), type)
      assert.equal(head.size, 5)
      const { times: kept, values: keptValues } = head.columns()
      head.replace({ times: kept.subarray(3), values: keptValues.slice(3) })
      head.append([8], [valueOf(8)])
      assert.deepEqual(head.points().times, [7, 8, 9], type)
      assert.deepEqual(head.points().values, [7, 8, 9].map(valueOf), type)
    }
  })
})

describe('what a checkpoint seals', () => {
  const layout = { window: 1000, maxPoints: 4, rollupWidths: [100] }
  const columns = (times: number[]) => ({
    times: Float64Array.from(times),
    values: Float64Array.from(times, (t) => t / 2),
  })

  it('seals windows that closed whole, and of open ones whole chunks only', () => {
    // Window 0 (closed): 3 points. Window 1 (open): 10 points. Window 2 (open): 2 points.
    const times = [1, 2, 3, ...Array.from({ length: 10 }, (_, i) => 1000 + i), 2000, 2001]
    const split = sealWholeChunks('float', columns(times), layout, 1000)
    assert.deepEqual(
      split.seal.map((part) => [...part.times]),
      [
        [1, 2, 3],
        [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007],
      ],
    )
    assert.deepEqual([...split.keep.times], [1008, 1009, 2000, 2001])
    assert.deepEqual([...(split.keep.values as Float64Array)], [504, 504.5, 1000, 1000.5])
  })

  it('seals every point, one part per window, when asked to', () => {
    const split = sealEverything(columns([5, 6, 1500, 1501, 1502]), layout)
    assert.deepEqual(
      split.seal.map((part) => [...part.times]),
      [
        [5, 6],
        [1500, 1501, 1502],
      ],
    )
    assert.equal(split.keep.times.length, 0)
  })

  it('carries what stays over as log records of bounded size that replay to the same points', () => {
    const keep = columns(Array.from({ length: 300 }, (_, i) => i * 3))
    const strings = { times: Float64Array.of(1, 2), values: ['a', 'bb'] }
    const records = carriedRecords(
      [
        { seriesId: 7, type: 'float', keep },
        { seriesId: 8, type: 'string', keep: strings },
      ],
      1024,
    )
    assert.ok(records.length >= 5, `${String(records.length)} records`)
    for (const record of records) assert.ok(record.length <= 1024 + 64, String(record.length))
    const replayed = new Map<number, { times: number[]; values: Value[] }>()
    for (const record of records) {
      for (const s of decodeWriteRecord(record)) {
        const into = replayed.get(s.seriesId) ?? { times: [], values: [] }
        into.times.push(...s.times)
        into.values.push(...s.values)
        replayed.set(s.seriesId, into)
      }
    }
    assert.deepEqual(replayed.get(7)?.times, [...keep.times])
    assert.deepEqual(replayed.get(7)?.values, [...keep.values])
    assert.deepEqual(replayed.get(8), { times: [1, 2], values: ['a', 'bb'] })
  })
})

describe('a head while a background seal runs', () => {
  it('shows what the seal took until it is stored, later writes winning, and takes it back on failure', () => {
    fc.assert(
      fc.property(points, points, fc.nat(), fc.boolean(), (first, later, cut, fails) => {
        const head = new SeriesHead('float')
        head.append(first.times, first.values)
        const live = head.live()
        const at = cut % (live.times.length + 1)
        const taken = { times: live.times.slice(0, at), values: live.values.slice(0, at) }
        const kept = {
          times: live.times.subarray(at),
          values: (live.values as Float64Array).subarray(at),
        }
        head.detach(kept, taken)
        head.append(later.times, later.values)
        const all = reference([...first.times, ...later.times], [...first.values, ...later.values])
        const seen = (): [number, number][] => {
          const { times, values } = head.points()
          return times.map((t, i) => [t, values[i] as number])
        }
        assert.equal(head.liveSize, head.size - at)
        assert.deepEqual(seen(), all)
        if (fails) {
          head.unseal()
          assert.equal(head.liveSize, head.size)
          assert.deepEqual(seen(), all)
        } else {
          head.sealed()
          const stored = new Set(Array.from(taken.times))
          const rest = reference(
            [...Array.from(kept.times), ...later.times],
            [...Array.from(kept.values), ...later.values],
          )
          assert.deepEqual(seen(), rest)
          assert.ok(rest.every(([t]) => !stored.has(t) || later.times.includes(t)))
        }
      }),
    )
  })
})
