import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AnalyticsError } from '../errors.js'
import { RateOfChange } from './rate-of-change.js'

describe('RateOfChange', () => {
  it('gives the slope of a linear series, per second, at every point after the first', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 50 }),
        (intercept, perSecond, gaps) => {
          const r = new RateOfChange()
          let t = 1_700_000_000_000
          assert.equal(r.step(t, intercept)?.rate, undefined)
          let elapsed = 0
          for (const gap of gaps) {
            t += gap
            elapsed += gap
            const out = r.step(t, intercept + (perSecond * elapsed) / 1000)
            const tolerance =
              1e-6 * (1 + Math.abs(perSecond)) + (1e-9 * Math.abs(intercept) * 1000) / gap
            assert.ok(
              Math.abs((out?.rate ?? NaN) - perSecond) <= tolerance,
              `${String(out?.rate)} vs ${String(perSecond)}`,
            )
            assert.equal(out?.intervalMs, gap)
          }
        },
      ),
    )
  })

  it('counts a counter reset as a restart from zero', () => {
    const r = new RateOfChange({ counter: true })
    r.step(0, 100)
    assert.deepEqual(r.step(10_000, 150), {
      rate: 5,
      value: 150,
      previous: 100,
      intervalMs: 10_000,
      reset: false,
    })
    assert.deepEqual(r.step(20_000, 20), {
      rate: 2,
      value: 20,
      previous: 150,
      intervalMs: 10_000,
      reset: true,
    })
    const gauge = new RateOfChange()
    gauge.step(0, 100)
    assert.equal(gauge.step(10_000, 50)?.rate, -5)
  })

  it('gives no rate across a gap over maxGapMs, and ignores points not newer than the last', () => {
    const r = new RateOfChange({ maxGapMs: 60_000 })
    r.step(0, 1)
    assert.equal(r.step(120_000, 2)?.rate, undefined)
    assert.equal(r.step(130_000, 3)?.rate, 0.1)
    assert.equal(r.step(130_000, 100)?.value, 3, 'same timestamp: ignored')
    assert.equal(r.step(1_000, 100)?.value, 3, 'older: ignored')
    assert.equal(r.step(140_000, Number.NaN)?.value, 3, 'NaN: ignored')
    assert.throws(() => new RateOfChange({ maxGapMs: 0 }), AnalyticsError)
  })
})
