import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { ChunkError, decodeFloatTable, encodeChunk, encodeFloatTable } from './index.js'

function bits(values: Float64Array): bigint[] {
  return Array.from(new BigUint64Array(Float64Array.from(values).buffer))
}

function isCorrupt(err: unknown): boolean {
  return err instanceof ChunkError && err.code === 'TSDB_CHUNK_CORRUPT'
}

function withCrc(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes)
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
  return out
}

const anyBitsFloat = fc
  .bigInt({ min: 0n, max: 2n ** 64n - 1n })
  .map((b) => new Float64Array(BigUint64Array.of(b).buffer)[0]!)
const decimal = fc
  .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 4 }))
  .map(([m, e]) => m / 10 ** e)
const float = fc.oneof(
  { weight: 4, arbitrary: decimal },
  { weight: 1, arbitrary: fc.constantFrom(NaN, -0, 0, Infinity, -Infinity, Number.MIN_VALUE) },
  { weight: 1, arbitrary: anyBitsFloat },
)

const tableArb = fc
  .record({
    rows: fc.integer({ min: 1, max: 600 }),
    columns: fc.integer({ min: 1, max: 16 }),
    start: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
    step: fc.integer({ min: 1, max: 3_600_000 }),
  })
  .chain(({ rows, columns, start, step }) =>
    fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: rows, maxLength: rows }),
        fc.array(fc.array(float, { minLength: rows, maxLength: rows }), {
          minLength: columns,
          maxLength: columns,
        }),
      )
      .map(([skips, cols]) => {
        let t = start
        const timestamps = Float64Array.from(skips, (s, i) => (t += i === 0 ? 0 : step * (1 + s)))
        return { timestamps, columns: cols.map((c) => Float64Array.from(c)) }
      }),
  )

function rollup(rows: number): { timestamps: Float64Array; columns: Float64Array[] } {
  const timestamps = Float64Array.from({ length: rows }, (_, i) => 1_736_000_000_000 + i * 300_000)
  const count = Float64Array.from({ length: rows }, (_, i) => (i % 97 === 0 ? 29 : 30))
  const min = Float64Array.from(
    { length: rows },
    (_, i) => Math.round(2000 + Math.sin(i / 40) * 300) / 100,
  )
  const max = min.map((v, i) => Math.round(v * 100 + 10 + (i % 7)) / 100)
  const sum = min.map((v, i) => Math.round(v * 100 * (count[i] ?? 0) + 150) / 100)
  return { timestamps, columns: [count, sum, min, max] }
}

describe('encodeFloatTable / decodeFloatTable', () => {
  it('round-trips any table bit for bit (NaN payloads, ±Inf, -0)', () => {
    fc.assert(
      fc.property(tableArb, ({ timestamps, columns }) => {
        const back = decodeFloatTable(encodeFloatTable(timestamps, columns))
        assert.deepEqual(bits(back.timestamps), bits(timestamps))
        assert.equal(back.columns.length, columns.length)
        columns.forEach((c, j) => assert.deepEqual(bits(back.columns[j]!), bits(c)))
      }),
      { numRuns: 200 },
    )
  })

  it('round-trips 1,000,000 rows', () => {
    const { timestamps, columns } = rollup(1_000_000)
    const back = decodeFloatTable(encodeFloatTable(timestamps, columns.slice(0, 2)))
    assert.deepEqual(bits(back.columns[1]!), bits(columns[1]!))
  })

  it('costs less than one chunk per column', () => {
    const { timestamps, columns } = rollup(2000)
    const table = encodeFloatTable(timestamps, columns).length
    const chunks = columns
      .map((values) => encodeChunk({ type: 'float', timestamps, values }).length)
      .reduce((a, b) => a + b, 0)
    assert.ok(table < chunks - 3 * 36, `${String(table)} vs ${String(chunks)} bytes`)
  })

  it('rejects tables it cannot store with TSDB_CHUNK_INVALID', () => {
    const ts = Float64Array.of(1, 2)
    const bad: [Float64Array, Float64Array[]][] = [
      [new Float64Array(0), [new Float64Array(0)]],
      [ts, []],
      [ts, Array.from({ length: 17 }, () => Float64Array.of(1, 2))],
      [ts, [Float64Array.of(1)]],
      [Float64Array.of(2, 1), [Float64Array.of(1, 2)]],
      [Float64Array.of(0.5, 1), [Float64Array.of(1, 2)]],
    ]
    for (const [timestamps, columns] of bad) {
      assert.throws(
        () => encodeFloatTable(timestamps, columns),
        (err: unknown) => err instanceof ChunkError && err.code === 'TSDB_CHUNK_INVALID',
      )
    }
  })

  const { timestamps, columns } = rollup(50)
  const bytes = encodeFloatTable(timestamps, columns)

  it('rejects every flipped byte, truncation and extension', () => {
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(bytes)
        bad[i]! ^= mask
        assert.throws(() => decodeFloatTable(bad), isCorrupt, `byte ${String(i)}`)
      }
    }
    for (let len = 0; len < bytes.length; len++) {
      assert.throws(() => decodeFloatTable(bytes.subarray(0, len)), isCorrupt)
    }
    assert.throws(() => decodeFloatTable(Uint8Array.of(...bytes, 0)), isCorrupt)
  })

  it('never fails otherwise on damage behind a valid checksum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        (edits, cut) => {
          const bad = Uint8Array.from(bytes)
          for (const [at, v] of edits) bad[at % (bad.length - 4)] = v
          for (const candidate of [bad, bad.subarray(0, Math.max(4, cut % bytes.length))]) {
            try {
              decodeFloatTable(withCrc(candidate))
            } catch (err) {
              if (!isCorrupt(err)) throw err
            }
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})
