import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AnalyticsError } from '../errors.js'
import { Deadband } from './deadband.js'

describe('Deadband', () => {
  it('passes the first value, then only moves of at least the threshold', () => {
    const db = new Deadband({ threshold: 0.5 })
    const emitted = [20, 20.3, 20.6, 20.2, 20.1, 19.9, 21].map((v, i) => db.step(i * 1000, v).emit)
    assert.deepEqual(emitted, [true, false, true, false, true, false, true])
    assert.deepEqual(
      { ...db.output, delta: Math.round((db.output?.delta ?? 0) * 1e9) / 1e9 },
      { emit: true, value: 21, last: 21, delta: 0.9 },
    )
  })

  it('takes a percentage of the last passed value', () => {
    const db = new Deadband({ percent: 10 })
    assert.deepEqual(
      [100, 105, 111, 101, 99.8].map((v, i) => db.step(i, v).emit),
      [true, false, true, false, true],
    )
    const zero = new Deadband({ percent: 10 })
    assert.deepEqual(
      [0, 0, 0.001].map((v, i) => zero.step(i, v).emit),
      [true, false, true],
    )
  })

  it('passes a value anyway after maxIntervalMs without one', () => {
    const db = new Deadband({ threshold: 5, maxIntervalMs: 60_000 })
    assert.deepEqual(
      [0, 30_000, 59_999, 60_000, 61_000].map((t) => db.step(t, 1).emit),
      [true, false, false, true, false],
    )
  })

  it('never passes a non-finite value, and refuses bad options', () => {
    const db = new Deadband({ threshold: 1 })
    db.step(0, 1)
    assert.equal(db.step(1, Number.NaN).emit, false)
    assert.equal(db.step(2, Infinity).emit, false)
    assert.equal(db.step(3, 2).emit, true)
    for (const bad of [
      {},
      { threshold: 1, percent: 1 },
      { threshold: -1 },
      { percent: 0 },
      { threshold: 1, maxIntervalMs: 0 },
    ]) {
      assert.throws(
        () => new Deadband(bad),
        (e: unknown) => e instanceof AnalyticsError && e.code === 'ANALYTICS_OPTIONS_INVALID',
      )
    }
  })

  it('never passes two values closer than the threshold, and drops only values within it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 200 }),
        (threshold, values) => {
          const db = new Deadband({ threshold })
          let last: number | undefined
          values.forEach((v, i) => {
            const out = db.step(i, v)
            if (out.emit) {
              if (last !== undefined) assert.ok(Math.abs(v - last) >= threshold)
              last = v
            } else {
              assert.ok(last !== undefined && Math.abs(v - last) < threshold)
            }
          })
        },
      ),
    )
  })
})
