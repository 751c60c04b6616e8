import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../errors/protocol-error.js'
import type { PayloadFormat } from '../topics/topic-tree.js'
import { decodeTelemetry, encodeTelemetry } from './telemetry-codec.js'
import type { TelemetryRecord } from './telemetry-schema.js'

const text = (s: string) => new TextEncoder().encode(s)
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const fails = (code: string, pattern: RegExp) => (e: unknown) =>
  e instanceof ProtocolError && e.code === code && pattern.test(e.message)

describe('decodeTelemetry: JSON', () => {
  it('accepts a bare map, a record, and a batch', () => {
    assert.deepEqual(decodeTelemetry(text('{"temp":21.5,"door":true,"mode":"eco"}'), 'json'), [
      { values: { temp: 21.5, door: true, mode: 'eco' } },
    ])
    assert.deepEqual(
      decodeTelemetry(
        text('{"ts":1700000000000,"values":{"temp":21.5},"tags":{"probe":"a"}}'),
        'json',
      ),
      [{ ts: 1700000000000, values: { temp: 21.5 }, tags: { probe: 'a' } }],
    )
    assert.deepEqual(decodeTelemetry(text('[{"temp":1},{"ts":5,"values":{"temp":2}}]'), 'json'), [
      { values: { temp: 1 } },
      { ts: 5, values: { temp: 2 } },
    ])
  })

  it('names the bad field by its JSON pointer', () => {
    assert.throws(
      () => decodeTelemetry(text('{"temp":{"c":1}}'), 'json'),
      fails('PROTOCOL_INVALID', /\/temp must be number, integer, boolean or string/),
    )
    assert.throws(
      () => decodeTelemetry(text('[{"a":1},{"ts":-1,"values":{"a":1}}]'), 'json'),
      fails('PROTOCOL_INVALID', /telemetry \/1: \/ts must be >= 0/),
    )
    assert.throws(
      () => decodeTelemetry(text('{"ts":1.5,"values":{"a":1}}'), 'json'),
      fails('PROTOCOL_INVALID', /\/ts must be integer/),
    )
    assert.throws(
      () => decodeTelemetry(text('{"values":{"a":1},"extra":1}'), 'json'),
      fails('PROTOCOL_INVALID', /unknown properties "extra"/),
    )
    assert.throws(
      () => decodeTelemetry(text('{"bad name":1}'), 'json'),
      fails('PROTOCOL_INVALID', /unknown properties "bad name"/),
    )
    assert.throws(
      () => decodeTelemetry(text('{"__proto__":1}'), 'json'),
      fails('PROTOCOL_INVALID', /"__proto__"/),
    )
  })

  it('explains the reserved keys of the bare form and empty input', () => {
    assert.throws(
      () => decodeTelemetry(text('{"ts":5,"temp":1}'), 'json'),
      fails('PROTOCOL_INVALID', /"ts" is reserved/),
    )
    assert.throws(
      () => decodeTelemetry(text('[]'), 'json'),
      fails('PROTOCOL_INVALID', /batch is empty/),
    )
    assert.throws(
      () => decodeTelemetry(text('{}'), 'json'),
      fails('PROTOCOL_INVALID', /must not have fewer than 1/),
    )
    assert.throws(
      () => decodeTelemetry(text('42'), 'json'),
      fails('PROTOCOL_INVALID', /must be an object/),
    )
    assert.throws(
      () => decodeTelemetry(text('[[{"a":1}]]'), 'json'),
      fails('PROTOCOL_INVALID', /telemetry \/0: must be an object/),
    )
  })

  it('enforces its limits: strings, values, records, depth, bytes', () => {
    assert.throws(
      () => decodeTelemetry(text(JSON.stringify({ s: 'x'.repeat(1025) })), 'json'),
      fails('PROTOCOL_INVALID', /\/s must not have more than 1024/),
    )
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`m${String(i)}`, i]))
    assert.throws(
      () => decodeTelemetry(text(JSON.stringify(many)), 'json'),
      fails('PROTOCOL_INVALID', /more than 1000 properties/),
    )
    assert.throws(
      () => decodeTelemetry(text(JSON.stringify(Array(10_001).fill({ a: 1 }))), 'json'),
      fails('PROTOCOL_TOO_LARGE', /10001 records exceed 10000/),
    )
    assert.throws(
      () => decodeTelemetry(text('[{"values":{"a":[[1]]}}]'), 'json'),
      fails('PROTOCOL_TOO_LARGE', /deeper than 4/),
    )
    assert.throws(
      () => decodeTelemetry(new Uint8Array(300_000), 'json'),
      fails('PROTOCOL_TOO_LARGE', /exceeds 262144/),
    )
  })
})

describe('decodeTelemetry: CBOR', () => {
  it('keeps integers (int64) apart from floats', () => {
    // {"n": 5, "f": 5.0} with 5 as a CBOR integer and 5.0 as a half float
    assert.deepEqual(decodeTelemetry(hex('a2616e056166f94500'), 'cbor'), [
      { values: { n: 5n, f: 5 } },
    ])
  })

  it('takes a timestamp written as a CBOR unsigned integer, as tinycbor and zcbor write it', () => {
    // {"ts": 1764057600000 (uint64), "values": {"t": 21.5}}
    assert.deepEqual(
      decodeTelemetry(hex('a26274731b0000019aba06d0006676616c756573a16174f94d60'), 'cbor'),
      [{ ts: 1764057600000, values: { t: 21.5 } }],
    )
    // beyond epoch-ms range it is still refused, naming the field
    assert.throws(
      () => decodeTelemetry(hex('a26274731bffffffffffffffff6676616c756573a16174f94d60'), 'cbor'),
      fails('PROTOCOL_INVALID', /\/ts must be/),
    )
  })

  it('rejects integers beyond int64 and byte strings as values', () => {
    assert.throws(
      () => decodeTelemetry(hex('a1616e1bffffffffffffffff'), 'cbor'),
      fails('PROTOCOL_INVALID', /\/n must be/),
    )
    assert.throws(
      () => decodeTelemetry(hex('a1616e4101'), 'cbor'),
      fails('PROTOCOL_INVALID', /\/n must be number/),
    )
  })

  it('rejects NaN and infinities, which no series can store', () => {
    assert.throws(
      () => decodeTelemetry(hex('a1616ef97e00'), 'cbor'),
      fails('PROTOCOL_INVALID', /\/n must be/),
    )
    assert.throws(
      () => decodeTelemetry(hex('a1616ef97c00'), 'cbor'),
      fails('PROTOCOL_INVALID', /\/n must be/),
    )
  })

  it('is compact: one float reading fits in 8 bytes', () => {
    assert.equal(
      Buffer.from(encodeTelemetry([{ values: { temp: 21.5 } }], 'cbor')).toString('hex'),
      'a16474656d70f94d60',
    )
  })
})

describe('decodeTelemetry: line protocol', () => {
  it('maps measurement.field to metrics, keeps tags, converts the timestamp to ms', () => {
    const lp =
      'env,probe=a temp=21.5,count=3i,ok=t,state="on" 1700000000123456789\nenv hum=40u 1700000000000000000'
    assert.deepEqual(decodeTelemetry(text(lp), 'lp'), [
      {
        ts: 1700000000123,
        values: { 'env.temp': 21.5, 'env.count': 3n, 'env.ok': true, 'env.state': 'on' },
        tags: { probe: 'a' },
      },
      { ts: 1700000000000, values: { 'env.hum': 40n } },
    ])
    assert.deepEqual(decodeTelemetry(text('env temp=1 1700000000'), 'lp', { precision: 's' }), [
      { ts: 1700000000000, values: { 'env.temp': 1 } },
    ])
  })

  it('reports syntax errors with line and column', () => {
    assert.throws(
      () => decodeTelemetry(text('env temp=1\nenv temp=\n'), 'lp'),
      fails('PROTOCOL_LINE_SYNTAX', /line 2, column/),
    )
  })

  it('rejects names that are not metric names, and unsigned values beyond int64', () => {
    assert.throws(
      () => decodeTelemetry(text('my\\ env temp=1'), 'lp'),
      fails('PROTOCOL_INVALID', /point 1/),
    )
    assert.throws(
      () => decodeTelemetry(text('env n=18446744073709551615u'), 'lp'),
      fails('PROTOCOL_UNSUPPORTED', /exceeds int64/),
    )
  })
})

describe('encodeTelemetry', () => {
  it('refuses int64 values in JSON, which has only floats', () => {
    assert.throws(
      () => encodeTelemetry([{ values: { n: 5n } }], 'json'),
      fails('PROTOCOL_UNSUPPORTED', /int64/),
    )
  })
})

const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/)
const dotted = fc.tuple(name, name).map(([m, f]) => `${m}.${f}`)
const floatValue = fc.double({ noNaN: true, noDefaultInfinity: true })
const value = (withInts: boolean) =>
  withInts
    ? fc.oneof(
        floatValue,
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.boolean(),
        fc.string({ maxLength: 30 }),
      )
    : fc.oneof(floatValue, fc.boolean(), fc.string({ maxLength: 30 }))
/** Line protocol cannot carry control characters in a tag value, nor a trailing backslash. */
const lineTagValue = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter(
    (v) =>
      !v.endsWith('\\') && !Array.from(v).some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f'),
  )
const records = (format: PayloadFormat) =>
  fc.array(
    fc.record(
      {
        ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        values: fc.dictionary(format === 'lp' ? dotted : name, value(format !== 'json'), {
          minKeys: 1,
          maxKeys: 6,
          noNullPrototype: true,
        }),
        tags: fc.dictionary(
          name,
          format === 'lp' ? lineTagValue : fc.string({ minLength: 1, maxLength: 20 }),
          {
            minKeys: 1,
            maxKeys: 3,
            noNullPrototype: true,
          },
        ),
      },
      { requiredKeys: ['values'], noNullPrototype: true },
    ),
    { minLength: 1, maxLength: 5 },
  )

describe('telemetry round trip', () => {
  for (const format of ['json', 'cbor', 'lp'] as const) {
    it(`decode(encode(records)) equals records in ${format}`, () => {
      fc.assert(
        fc.property(records(format), (input) => {
          const output = decodeTelemetry(encodeTelemetry(input, format), format)
          // Line protocol carries one measurement per line: regroup by record before comparing.
          assert.deepEqual(
            format === 'lp' ? mergeByRecord(output, input) : output,
            input.map(normalizeNegativeZero(format)),
          )
        }),
        { numRuns: 300 },
      )
    })
  }

  it('decoding never throws anything but ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PayloadFormat>('json', 'cbor', 'lp'),
        fc.uint8Array({ maxLength: 100 }),
        (format, bytes) => {
          try {
            decodeTelemetry(bytes, format)
          } catch (e) {
            assert.ok(e instanceof ProtocolError, String(e))
          }
        },
      ),
      { numRuns: 5_000 },
    )
  })
})

/** JSON writes -0 as 0; the protocol treats them as the same reading. */
function normalizeNegativeZero(format: PayloadFormat) {
  return (record: TelemetryRecord): TelemetryRecord =>
    format !== 'json'
      ? record
      : {
          ...record,
          values: Object.fromEntries(
            Object.entries(record.values).map(([k, v]) => [k, Object.is(v, -0) ? 0 : v]),
          ),
        }
}

/** Line protocol splits a record into one point per measurement; put them back together. */
function mergeByRecord(
  output: TelemetryRecord[],
  input: readonly TelemetryRecord[],
): TelemetryRecord[] {
  let at = 0
  return input.map((record) => {
    const measurements = new Set(
      Object.keys(record.values).map((m) => m.slice(0, m.lastIndexOf('.'))),
    )
    const parts = output.slice(at, at + measurements.size)
    at += measurements.size
    const values = Object.assign({}, ...parts.map((p) => p.values)) as TelemetryRecord['values']
    const merged: TelemetryRecord = {
      ...(parts[0] ?? record),
      values: Object.fromEntries(
        Object.keys(record.values).map((k) => [k, values[k] ?? null]),
      ) as TelemetryRecord['values'],
    }
    return merged
  })
}
