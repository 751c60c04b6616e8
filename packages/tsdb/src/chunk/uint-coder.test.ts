import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import { readSeries, writeSeries } from './int-series.js'
import { planUints, readUints, writeUints } from './uint-coder.js'

function roundTrip(values: number[]): { kind: number; bits: number } {
  const w = new BitWriter()
  const plan = planUints(values)
  writeUints(w, values, 0, values.length, plan)
  assert.equal(w.bitLength, plan.bits, 'planned size is the written size')
  const bytes = w.finish()
  const r = new BitReader(bytes, 'test')
  const out = new Float64Array(values.length)
  readUints(r, out)
  r.checkEnd()
  assert.deepEqual(Array.from(out), values)
  return { kind: (bytes[0] ?? 0) >>> 6, bits: w.bitLength }
}

/** Small non-negative integers from a rounded Gaussian of the given σ, zigzagged. */
function gaussian(n: number, sigma: number, seed: number): number[] {
  let x = seed
  const next = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32
  return Array.from({ length: n }, () => {
    const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
    const v = Math.round(sigma * g)
    return (v >= 0 ? 2 * v : -2 * v - 1) + 0 // + 0 turns -0 into 0
  })
}

const uint = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 2 ** 32 }),
  fc.constantFrom(0, 2 ** 53 - 1, 2 ** 32 - 1, 2 ** 31),
  fc.maxSafeNat(),
)

describe('uint coder', () => {
  it('round-trips any unsigned integers below 2^53 and writes exactly the planned size', () => {
    fc.assert(
      fc.property(fc.array(uint, { maxLength: 3000 }), (values) => void roundTrip(values)),
      { numRuns: 300 },
    )
  })

  it('round-trips mostly-zero streams', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: uint }),
          {
            maxLength: 5000,
          },
        ),
        (values) => void roundTrip(values),
      ),
      { numRuns: 200 },
    )
  })

  it('uses each stream kind where it is smallest', () => {
    const kinds = new Set<number>()
    kinds.add(roundTrip(gaussian(5000, 2, 1)).kind) // Huffman
    kinds.add(roundTrip(gaussian(5000, 0.4, 2)).kind) // pairs
    kinds.add(roundTrip(new Array<number>(5000).fill(0)).kind) // long Rice blocks
    // Magnitudes switching every 128 values: only short Rice blocks follow them.
    const drifting = gaussian(5000, 1, 3).map((v, i) => {
      const bits = 10 * (Math.floor(i / 128) % 4)
      return 2 ** bits + ((v * 7919) % 2 ** bits)
    })
    kinds.add(roundTrip(drifting).kind) // short Rice blocks
    assert.deepEqual([...kinds].sort(), [0, 1, 2, 3])
  })

  it('codes Gaussian noise within 0.1 bit of its entropy and zeros in almost nothing', () => {
    const { bits } = roundTrip(gaussian(8640, 2, 4))
    assert.ok(bits / 8640 < 3.05 + 0.1, `${String(bits / 8640)} bits per value`)
    assert.ok(roundTrip(new Array<number>(8640).fill(0)).bits < 100)
  })
})

describe('series coder', () => {
  const series = fc.oneof(
    fc.array(fc.integer({ min: -(2 ** 48), max: 2 ** 48 }), { minLength: 1, maxLength: 300 }),
    fc
      .tuple(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 2000 }),
      )
      .map(([start, slope, noise]) => noise.map((e, i) => start + slope * i + e)),
  )

  it('round-trips integer sequences within ±2^48 with every predictor', () => {
    fc.assert(
      fc.property(series, (values) => {
        const w = new BitWriter()
        writeSeries(w, values)
        const r = new BitReader(w.finish(), 'test')
        const out = new Float64Array(values.length)
        readSeries(r, out)
        r.checkEnd()
        assert.deepEqual(Array.from(out), values)
      }),
      { numRuns: 300 },
    )
  })
})
