import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AnalyticsError } from '../errors.js'
import { ForAtLeast } from './for-at-least.js'

describe('ForAtLeast', () => {
  it('raises after the condition held for forMs and clears at the other threshold', () => {
    const hot = new ForAtLeast({ forMs: 300_000, above: 30, below: 28 })
    const steps: [number, number][] = [
      [0, 31],
      [100_000, 32],
      [200_000, 29.5], // a break: below 30 resets the wait
      [250_000, 31],
      [500_000, 31],
      [550_000, 31],
      [600_000, 29], // between the thresholds: stays raised
      [700_000, 27.9],
    ]
    const outs = steps.map(([t, v]) => hot.step(t, v))
    assert.deepEqual(
      outs.map((o) => o?.active),
      [false, false, false, false, false, true, true, false],
    )
    assert.deepEqual(
      outs.map((o) => o?.pending),
      [true, true, false, true, true, false, false, false],
    )
    assert.deepEqual(
      outs.map((o) => o?.changed),
      [false, false, false, false, false, true, false, true],
    )
    assert.deepEqual([outs[4]?.since, outs[4]?.heldMs], [250_000, 250_000])
    assert.deepEqual([outs[6]?.since, outs[7]?.since], [550_000, 700_000])
  })

  it('raises low when direction is low, waits clearForMs to clear, and takes bools', () => {
    const cold = new ForAtLeast({
      forMs: 0,
      direction: 'low',
      above: 5,
      below: 2,
      clearForMs: 60_000,
    })
    assert.deepEqual(
      [3, 2, 4, 6, 6, 7].map((v, i) => cold.step(i * 30_000, v)?.active),
      [false, true, true, true, true, false],
    )
    const open = new ForAtLeast({ forMs: 60_000 })
    assert.deepEqual(
      [1, 1, 1, 0].map((v, i) => open.step(i * 30_000, v)?.active),
      [false, false, true, false],
    )
  })

  it('ignores late points and NaN, and refuses bad thresholds', () => {
    const f = new ForAtLeast({ forMs: 10, above: 1, below: 0 })
    f.step(100, 5)
    assert.equal(f.step(50, 5)?.active, false)
    assert.equal(f.step(120, Number.NaN)?.active, false)
    assert.equal(f.step(120, 5)?.active, true)
    for (const bad of [
      { forMs: -1 },
      { forMs: 0, above: 1 },
      { forMs: 0, above: 1, below: 2 },
      { forMs: 0, direction: 'up' },
    ]) {
      assert.throws(
        () => new ForAtLeast(bad as never),
        (e: unknown) => e instanceof AnalyticsError,
        JSON.stringify(bad),
      )
    }
  })

  it('never raises before forMs of continuous truth, and only clears at or beyond the clear threshold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 20, max: 40 })), {
          maxLength: 200,
        }),
        (forMs, steps) => {
          const above = 30
          const below = 27
          const f = new ForAtLeast({ forMs, above, below })
          let t = 0
          const seen: { t: number; v: number }[] = []
          for (const [dt, v] of steps) {
            t += dt
            seen.push({ t, v })
            const out = f.step(t, v)
            if (out?.changed !== true) continue
            if (out.active) {
              // the run of points ≥ above that ends here began at least forMs ago
              let k = seen.length - 1
              while (k > 0 && (seen[k - 1]?.v ?? 0) >= above) k--
              assert.ok(v >= above)
              assert.ok(
                t - (seen[k]?.t ?? t) >= forMs,
                `raised after ${String(t - (seen[k]?.t ?? t))} ms`,
              )
            } else {
              assert.ok(v <= below)
            }
          }
        },
      ),
    )
  })
})
