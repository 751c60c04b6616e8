import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { deriveSeed, Prng } from './prng.js'
import { roundTo, SignalPlan } from './signal-generator.js'
import type { Signal } from './signal-schema.js'

const float: fc.Arbitrary<Signal> = fc
  .record({
    base: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    spread: fc.double({ min: 0, max: 100, noNaN: true }),
    noise: fc.double({ min: 0, max: 100, noNaN: true }),
    driftPerHour: fc.double({ min: 0, max: 10, noNaN: true }),
    decimals: fc.integer({ min: 0, max: 6 }),
    bounds: fc.option(
      fc.tuple(
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
      ),
    ),
    daily: fc.option(
      fc.record({
        amplitude: fc.double({ min: 0, max: 50, noNaN: true }),
        peakHour: fc.double({ min: 0, max: 24, noNaN: true }),
      }),
    ),
    anomalies: fc.option(
      fc.record({
        perHour: fc.double({ min: 0, max: 1e5, noNaN: true }),
        magnitude: fc.double({ min: 0, max: 1e3, noNaN: true }),
        durationS: fc.double({ min: 0.001, max: 1e4, noNaN: true }),
        kinds: fc.subarray(
          ['spike', 'level-shift', 'stuck'] as ('spike' | 'level-shift' | 'stuck')[],
          { minLength: 1 },
        ),
      }),
    ),
  })
  .map(({ bounds, daily, anomalies, ...rest }) => ({
    type: 'float' as const,
    ...rest,
    ...(bounds === null ? {} : { min: bounds[0], max: bounds[0] + bounds[1] }),
    ...(daily === null ? {} : { daily }),
    ...(anomalies === null ? {} : { anomalies }),
  }))

const signal: fc.Arbitrary<Signal> = fc.oneof(
  float,
  fc.record({
    type: fc.constant('counter' as const),
    ratePerS: fc.double({ min: 0, max: 1e4, noNaN: true }),
    start: fc.nat(),
  }),
  fc.record({
    type: fc.constant('boolean' as const),
    trueShare: fc.double({ min: 0, max: 1, noNaN: true }),
    changesPerHour: fc.double({ min: 0, max: 1e5, noNaN: true }),
  }),
  fc.record({
    type: fc.constant('enum' as const),
    values: fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
    changesPerHour: fc.double({ min: 0, max: 1e5, noNaN: true }),
  }),
)

const epoch = 1_764_000_000_000
const steps = fc.array(fc.integer({ min: 0, max: 3_600_000 }), { minLength: 1, maxLength: 40 })

function run(signals: Signal[], seed: number, gaps: number[]) {
  const plan = new SignalPlan(
    signals.map((s, i) => [`s${String(i)}`, s] as const),
    epoch,
  )
  const rng = new Prng(seed)
  const state = plan.init(rng)
  let t = epoch
  return gaps.map((gap) => {
    t += gap
    return { t, values: plan.sample(rng, state, t) }
  })
}

describe('signal generator', () => {
  it('yields values of the declared kind, in range, with the declared decimals', () => {
    fc.assert(
      fc.property(
        fc.array(signal, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        steps,
        (signals, seed, gaps) => {
          const readings = run(signals, seed, gaps)
          signals.forEach((s, i) => {
            const series = readings.map((r) => r.values[`s${String(i)}`])
            switch (s.type) {
              case 'float':
                for (const v of series) {
                  assert.equal(typeof v, 'number')
                  assert.ok(Number.isFinite(v))
                  assert.equal(
                    roundTo(v as number, s.decimals ?? 2),
                    v,
                    `${String(v)} has more decimals than ${String(s.decimals)}`,
                  )
                  const slack = 10 ** -(s.decimals ?? 2)
                  if (s.min !== undefined) assert.ok((v as number) >= s.min - slack)
                  if (s.max !== undefined) assert.ok((v as number) <= s.max + slack)
                }
                break
              case 'counter':
                series.forEach((v, k) => {
                  assert.ok(Number.isSafeInteger(v))
                  if (k > 0)
                    assert.ok((v as number) >= (series[k - 1] as number), 'counters never go down')
                })
                break
              case 'boolean':
                for (const v of series) assert.equal(typeof v, 'boolean')
                break
              case 'enum':
                for (const v of series) assert.ok(s.values.includes(v as string))
                break
            }
          })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('is deterministic: the same seed and times give the same readings', () => {
    fc.assert(
      fc.property(
        fc.array(signal, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        steps,
        (signals, seed, gaps) => {
          assert.deepEqual(run(signals, seed, gaps), run(signals, seed, gaps))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('counts at the configured rate on average, and a boolean is true its share of the time', () => {
    const readings = run(
      [
        { type: 'counter', ratePerS: 2.5 },
        { type: 'boolean', trueShare: 0.25, changesPerHour: 3_600 },
      ],
      9,
      Array.from({ length: 20_000 }, () => 1_000),
    )
    const last = readings.at(-1)!.values
    assert.ok(Math.abs((last['s0'] as number) / 20_000 - 2.5) < 0.05, `rate ${String(last['s0'])}`)
    const share = readings.filter((r) => r.values['s1'] === true).length / readings.length
    assert.ok(Math.abs(share - 0.25) < 0.03, `share ${String(share)}`)
  })

  it('derives distinct, stable per-device seeds', () => {
    assert.equal(deriveSeed(42, 7), deriveSeed(42, 7))
    const seeds = new Set(Array.from({ length: 10_000 }, (_, i) => deriveSeed(42, i)))
    assert.equal(seeds.size, 10_000)
    const rng = new Prng(1)
    for (let i = 0; i < 1_000; i++) {
      const v = rng.next()
      assert.ok(v >= 0 && v < 1)
    }
  })
})
