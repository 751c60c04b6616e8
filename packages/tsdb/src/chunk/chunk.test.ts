import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  ChunkError,
  decodeChunk,
  encodeChunk,
  readChunkHeader,
  type ChunkData,
  type ValueType,
} from './index.js'

/** Float64 bits as bigints, so NaN payloads and -0 compare exactly. */
function bits(values: Float64Array): bigint[] {
  return Array.from(new BigUint64Array(Float64Array.from(values).buffer))
}

function assertRoundTrip(data: ChunkData): Uint8Array {
  const bytes = encodeChunk(data)
  const back = decodeChunk(bytes)
  assert.equal(back.type, data.type)
  assert.deepEqual(bits(back.timestamps), bits(data.timestamps))
  if (data.values instanceof Float64Array) {
    assert.ok(back.values instanceof Float64Array)
    assert.deepEqual(bits(back.values), bits(data.values))
  } else {
    assert.deepEqual(back.values, data.values)
  }
  const header = readChunkHeader(bytes)
  assert.deepEqual(header, {
    type: data.type,
    count: data.timestamps.length,
    minTime: data.timestamps[0],
    maxTime: data.timestamps[data.timestamps.length - 1],
  })
  return bytes
}

/** Strictly increasing safe-integer timestamps: regular, jittered, bursty or negative. */
const timestampsArb = (count: fc.Arbitrary<number>): fc.Arbitrary<Float64Array> =>
  count.chain((n) =>
    fc
      .record({
        start: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
        period: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 100_000 })),
        jitter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 })),
        deltas: fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(-1) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) },
          ),
          { minLength: n, maxLength: n },
        ),
        noise: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n }),
      })
      .map(({ start, period, jitter, deltas, noise }) => {
        const ts = new Float64Array(n)
        let t = start
        for (let i = 0; i < n; i++) {
          const d = deltas[i]!
          const step = d < 0 ? period + (jitter === 0 ? 0 : noise[i]! % (jitter + 1)) : d
          t += i === 0 ? 0 : Math.max(1, step)
          ts[i] = t
        }
        return ts
      }),
  )

const specialFloat = fc.constantFrom(
  NaN,
  -NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e300,
  1e-300,
  2 ** 53,
  0.1,
  0.30000000000000004,
)
/** Any 64-bit pattern: NaNs with payloads, subnormals, everything. */
const anyBitsFloat = fc
  .bigInt({ min: 0n, max: 2n ** 64n - 1n })
  .map((b) => new Float64Array(BigUint64Array.of(b).buffer)[0]!)
const decimalFloat = fc
  .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }))
  .map(([m, e]) => m / 10 ** e)
const floatArb = fc.oneof(
  { weight: 3, arbitrary: decimalFloat },
  { weight: 1, arbitrary: specialFloat },
  { weight: 1, arbitrary: anyBitsFloat },
  { weight: 1, arbitrary: fc.double() },
)

function chunkArb<T>(
  type: ValueType,
  value: fc.Arbitrary<T>,
  build: (values: T[]) => ChunkData['values'],
  maxLength = 400,
): fc.Arbitrary<ChunkData> {
  return fc.integer({ min: 1, max: maxLength }).chain((n) =>
    fc
      .tuple(
        timestampsArb(fc.constant(n)),
        fc.oneof(
          fc.array(value, { minLength: n, maxLength: n }),
          // Long runs of repeated values.
          fc
            .array(value, { minLength: 1, maxLength: 4 })
            .chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: n, maxLength: n })),
        ),
      )
      .map(([timestamps, values]) => ({ type, timestamps, values: build(values) })),
  )
}

describe('encodeChunk / decodeChunk', () => {
  it('round-trips float chunks bit for bit (NaN payloads, ±Inf, -0, subnormals)', () => {
    fc.assert(
      fc.property(
        chunkArb('float', floatArb, (v) => Float64Array.from(v)),
        (data) => void assertRoundTrip(data),
      ),
      { numRuns: 300 },
    )
  })

  it('round-trips int chunks over the full int64 range', () => {
    const int = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 48n, -(2n ** 48n)),
    )
    fc.assert(
      fc.property(
        chunkArb('int', int, (v) => BigInt64Array.from(v)),
        (data) => void assertRoundTrip(data),
      ),
      { numRuns: 300 },
    )
  })

  it('round-trips counters and large ids that change by small steps', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.array(fc.integer({ min: -5, max: 100 }), { minLength: 1, maxLength: 300 }),
        (start, steps) => {
          let v = start
          const values = BigInt64Array.from(steps, (s) => (v = BigInt.asIntN(64, v + BigInt(s))))
          const timestamps = Float64Array.from(steps, (_, i) => 1_700_000_000_000 + i * 1000)
          assertRoundTrip({ type: 'int', timestamps, values })
        },
      ),
    )
  })

  it('round-trips bool chunks', () => {
    fc.assert(
      fc.property(
        chunkArb('bool', fc.constantFrom(0, 1), (v) => Uint8Array.from(v), 2000),
        (data) => void assertRoundTrip(data),
      ),
      { numRuns: 200 },
    )
  })

  it('round-trips string chunks (UTF-8 up to 256 bytes, repeated values)', () => {
    const str = fc.oneof(
      fc.constantFrom('ok', 'fault', '', 'warning', 'état: dégradé', '🌡️ hot'),
      fc.string({ maxLength: 60, unit: 'grapheme' }),
      fc.string({ minLength: 256, maxLength: 256, unit: 'binary-ascii' }),
    )
    fc.assert(
      fc.property(
        chunkArb('string', str, (v) => v),
        (data) => void assertRoundTrip(data),
      ),
      { numRuns: 200 },
    )
  })

  it('round-trips a single point and timestamps spanning the whole safe range', () => {
    assertRoundTrip({ type: 'float', timestamps: Float64Array.of(-5), values: Float64Array.of(-0) })
    assertRoundTrip({
      type: 'int',
      timestamps: Float64Array.of(Number.MIN_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER),
      values: BigInt64Array.of(1n, 2n, 3n),
    })
  })

  it('round-trips 1,000,000 points', () => {
    const n = 1_000_000
    const timestamps = Float64Array.from({ length: n }, (_, i) => i * 10_000 + (i % 7))
    const values = Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 1e4) / 100)
    const bytes = assertRoundTrip({ type: 'float', timestamps, values })
    assert.ok(bytes.length < n * 3)
  })

  it('costs almost nothing for a regular clock and a constant value', () => {
    const n = 10_000
    const timestamps = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1000)
    const bytes = assertRoundTrip({ type: 'float', timestamps, values: new Float64Array(n) })
    assert.ok(bytes.length < 100, `${String(bytes.length)} bytes`)
  })

  it('rejects data it cannot store with TSDB_CHUNK_INVALID', () => {
    const bad: ChunkData[] = [
      { type: 'float', timestamps: new Float64Array(0), values: new Float64Array(0) },
      { type: 'float', timestamps: Float64Array.of(2, 1), values: Float64Array.of(1, 2) },
      { type: 'float', timestamps: Float64Array.of(1, 1), values: Float64Array.of(1, 2) },
      { type: 'float', timestamps: Float64Array.of(1.5), values: Float64Array.of(1) },
      { type: 'float', timestamps: Float64Array.of(2 ** 53), values: Float64Array.of(1) },
      { type: 'float', timestamps: Float64Array.of(1, 2), values: Float64Array.of(1) },
      { type: 'int', timestamps: Float64Array.of(1), values: Float64Array.of(1) },
      { type: 'bool', timestamps: Float64Array.of(1), values: Uint8Array.of(2) },
      { type: 'string', timestamps: Float64Array.of(1), values: ['x'.repeat(257)] },
      { type: 'string', timestamps: Float64Array.of(1), values: ['\ud800'] },
    ]
    for (const data of bad) {
      assert.throws(
        () => encodeChunk(data),
        (err: unknown) => err instanceof ChunkError && err.code === 'TSDB_CHUNK_INVALID',
      )
    }
  })
})
