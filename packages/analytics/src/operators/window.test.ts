import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AnalyticsError } from '../errors.js'
import { Window, type WindowOutput } from './window.js'

function naive(values: readonly number[]) {
  const n = values.length
  const mean = values.reduce((a, v) => a + v, 0) / n
  return {
    count: n,
    sum: values.reduce((a, v) => a + v, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    mean,
    stddev: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / n),
    first: values[0],
    last: values[n - 1],
  }
}

/**
 * Compares with the naive aggregates; `seen` are the values the window has seen so far: sums are
 * kept relative to a recent mean, so rounding is relative to the magnitude of recent values.
 */
function close(
  out: WindowOutput | undefined,
  values: readonly number[],
  seen: readonly number[],
): void {
  assert.ok(out !== undefined)
  const want = naive(values)
  const scale = Math.max(1, ...seen.map(Math.abs))
  assert.equal(out.count, want.count)
  for (const k of ['sum', 'mean', 'stddev'] as const) {
    const tolerance =
      1e-9 * scale * (k === 'sum' ? values.length : 1) + (k === 'stddev' ? 1e-7 * scale : 0)
    assert.ok(
      Math.abs(out[k] - want[k]) <= tolerance,
      `${k}: ${String(out[k])} vs ${String(want[k])}`,
    )
  }
  assert.deepEqual(
    [out.min, out.max, out.first, out.last],
    [want.min, want.max, want.first, want.last],
  )
}

/** Increasing timestamps with gaps of 0–20 s. */
const series = fc
  .array(
    fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    { minLength: 1, maxLength: 150 },
  )
  .map((steps) => {
    let t = 1_700_000_000_000
    return steps.map(([dt, v]) => ({ ts: (t += dt), v }))
  })

describe('Window', () => {
  it('sliding by count: its aggregates equal the naive ones over the last N points', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), series, (count, points) => {
        const w = new Window({ mode: 'sliding', count })
        points.forEach((p, i) => {
          const out = w.step(p.ts, p.v)
          const seen = points.slice(0, i + 1).map((q) => q.v)
          close(out, seen.slice(Math.max(0, i - count + 1)), seen)
          assert.equal(out?.complete, i + 1 >= count)
        })
      }),
    )
  })

  it('sliding by time: its aggregates equal the naive ones over (t − size, t]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), series, (sizeMs, points) => {
        const w = new Window({ mode: 'sliding', sizeMs })
        points.forEach((p, i) => {
          const out = w.step(p.ts, p.v)
          const seen = points.slice(0, i + 1)
          close(
            out,
            seen.filter((q) => q.ts > p.ts - sizeMs).map((q) => q.v),
            seen.map((q) => q.v),
          )
          assert.equal(out?.end, p.ts)
          assert.equal(out.truncated, false)
        })
      }),
    )
  })

  it('tumbling by time: each closed window reports the naive aggregates of its bucket', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 60_000 }), series, (sizeMs, points) => {
        const w = new Window({ mode: 'tumbling', sizeMs })
        let closed = 0
        for (const p of points) {
          const out = w.step(p.ts, p.v)
          if (out?.complete !== true) continue
          closed++
          const inBucket = points.filter((q) => q.ts >= out.start && q.ts < out.end).map((q) => q.v)
          close(out, inBucket, inBucket)
          assert.equal(out.end - out.start, sizeMs)
          assert.ok(p.ts >= out.end, 'closed by a point of a later window')
        }
        const buckets = new Set(points.map((p) => Math.floor(p.ts / sizeMs)))
        assert.equal(closed, buckets.size - 1)
      }),
    )
  })

  it('tumbling by count: closes every N points and starts afresh', () => {
    const w = new Window({ mode: 'tumbling', count: 3 })
    const outs = [1, 2, 3, 4, 5, 6, 7].map((v, i) => w.step(i * 10, v))
    assert.deepEqual(
      outs.map((o) => o?.complete),
      [false, false, true, false, false, true, false],
    )
    assert.deepEqual([outs[2]?.mean, outs[5]?.mean, outs[6]?.mean], [2, 5, 7])
    assert.deepEqual([outs[5]?.start, outs[5]?.end], [30, 50])
  })

  it('ignores late points, keeps stddev exact on large values, and says when it truncated', () => {
    const w = new Window({ mode: 'sliding', sizeMs: 1_000 })
    w.step(1_000, 1)
    const out = w.step(500, 100)
    assert.deepEqual([out?.count, out?.mean, out?.complete], [1, 1, false])
    const big = new Window({ mode: 'sliding', count: 4 })
    for (const [i, v] of [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4].entries()) big.step(i, v)
    assert.ok(Math.abs((big.output?.stddev ?? 0) - Math.sqrt(1.25)) < 1e-9)
    const t = new Window({ mode: 'sliding', sizeMs: 10_000, maxPoints: 3 })
    for (const ts of [0, 1, 2]) assert.equal(t.step(ts, ts)?.truncated, false)
    assert.deepEqual([t.step(3, 3)?.truncated, t.output?.count], [true, 3])
    assert.equal(t.step(20_000, 0)?.truncated, false)
  })

  it('refuses options that cannot work', () => {
    const bad = [
      { mode: 'sliding' },
      { mode: 'sliding', sizeMs: 1, count: 1 },
      { mode: 'hopping', count: 1 },
      { mode: 'tumbling', count: 0 },
      { mode: 'tumbling', count: 1.5 },
      { mode: 'sliding', sizeMs: -5 },
      { mode: 'sliding', sizeMs: 5, maxPoints: 10_000_000 },
    ]
    for (const o of bad) {
      assert.throws(
        () => new Window(o as never),
        (e: unknown) => e instanceof AnalyticsError && e.code === 'ANALYTICS_OPTIONS_INVALID',
        JSON.stringify(o),
      )
    }
  })
})
