import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeWriteRecord, encodeWriteRecord, type LoggedSeries } from './wal-record.js'

const series: fc.Arbitrary<LoggedSeries> = fc
  .oneof(
    fc.array(fc.double(), { maxLength: 20 }).map((v) => ({ type: 'float' as const, values: v })),
    fc
      .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 })
      .map((v) => ({ type: 'int' as const, values: v })),
    fc.array(fc.boolean(), { maxLength: 20 }).map((v) => ({ type: 'bool' as const, values: v })),
    fc
      .array(fc.string({ maxLength: 80, unit: 'grapheme' }), { maxLength: 20 })
      .map((v) => ({ type: 'string' as const, values: v })),
  )
  .chain((s) =>
    fc
      .tuple(
        fc.nat(),
        fc.array(fc.maxSafeNat(), { minLength: s.values.length, maxLength: s.values.length }),
      )
      .map(([seriesId, times]) => ({
        seriesId: seriesId % 2 ** 32,
        type: s.type,
        times,
        values: s.values,
      })),
  )

describe('write-ahead log records', () => {
  it('decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(fc.array(series, { maxLength: 5 }), (written) => {
        const read = decodeWriteRecord(encodeWriteRecord(written))
        assert.equal(read.length, written.length)
        read.forEach((s, i) => {
          const w = written[i] as LoggedSeries
          assert.equal(s.seriesId, w.seriesId)
          assert.equal(s.type, w.type)
          assert.deepEqual(s.times, w.times)
          if (w.type === 'float') {
            s.values.forEach((v, k) =>
              assert.ok(Object.is(v, w.values[k]), `${String(v)} vs ${String(w.values[k])}`),
            )
          } else assert.deepEqual(s.values, w.values)
        })
      }),
    )
  })

  it('refuses a truncated record instead of inventing points', () => {
    const bytes = encodeWriteRecord([
      { seriesId: 1, type: 'string', times: [1, 2], values: ['abc', 'def'] },
    ])
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => decodeWriteRecord(bytes.subarray(0, cut)), RangeError)
    }
  })
})
