import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Point } from '@influxdata/influxdb-client'
import fc from 'fast-check'
import { ProtocolError } from '../../errors/protocol-error.js'
import { formatLineProtocol } from './format-line-protocol.js'
import { parseLineProtocol } from './parse-line-protocol.js'
import { int64Max, int64Min, timestampMax, uint64Max } from './parse-values.js'
import { isControl } from './text.js'
import type { LineFieldValue, LinePoint } from './types.js'

const numRuns = 300

/** Characters that stress the grammar, mixed with any code point. */
const special = [
  ',',
  '=',
  ' ',
  '"',
  "'",
  '\\',
  '#',
  '_',
  'é',
  '🚀',
  '🍭',
  'a',
  'Z',
  '0',
  'i',
  'u',
  't',
  '-',
  '.',
]
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })
const nameChar = fc
  .oneof(fc.constantFrom(...special), anyChar)
  .filter((c) => !isControl(c.charCodeAt(0)))
const stringChar = fc.oneof(
  fc.constantFrom(...special, '\n', '\r', '\r\n', '\t', '\u0000'),
  anyChar,
)

/** A name the grammar can carry: non-empty, no control characters, no trailing backslash. */
const name = fc
  .string({ unit: nameChar, minLength: 1, maxLength: 12 })
  .filter((s) => !s.endsWith('\\'))
const measurement = name.filter((s) => !s.startsWith('#') && !s.startsWith('\uFEFF'))
const stringValue = fc.string({ unit: stringChar, maxLength: 30 })
const timestamp = fc.option(fc.bigInt({ min: -timestampMax, max: timestampMax }), {
  nil: undefined,
})

const fieldValue: fc.Arbitrary<LineFieldValue> = fc.oneof(
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((value) => ({ type: 'float' as const, value })),
  fc.bigInt({ min: int64Min, max: int64Max }).map((value) => ({ type: 'integer' as const, value })),
  fc.bigInt({ min: 0n, max: uint64Max }).map((value) => ({ type: 'unsigned' as const, value })),
  stringValue.map((value) => ({ type: 'string' as const, value })),
  fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
)

const byKey = { selector: (pair: readonly [string, unknown]) => pair[0] }

const linePoint: fc.Arbitrary<LinePoint> = fc
  .record({
    measurement,
    tags: fc.uniqueArray(fc.tuple(name, name), { ...byKey, maxLength: 4 }),
    fields: fc.uniqueArray(fc.tuple(name, fieldValue), { ...byKey, minLength: 1, maxLength: 5 }),
    timestamp,
  })
  .map(({ timestamp: ts, ...rest }) => (ts === undefined ? rest : { ...rest, timestamp: ts }))

/** Runs `parse`, letting only a well-formed ProtocolError escape. */
function parseOrProtocolError(input: string | Uint8Array): LinePoint[] | undefined {
  try {
    return parseLineProtocol(input)
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`)
    const { line, column } = err.details as { line?: number; column?: number }
    if (line !== undefined) {
      assert.ok(
        column !== undefined &&
          Number.isInteger(line) &&
          Number.isInteger(column) &&
          line >= 1 &&
          column >= 1,
      )
      assert.ok(
        err.message.startsWith(`line ${String(line)}, column ${String(column)}: `),
        err.message,
      )
    }
    return undefined
  }
}

describe('line protocol properties', () => {
  it('parses what it formats back to the same points', () => {
    fc.assert(
      fc.property(fc.array(linePoint, { maxLength: 4 }), (points) => {
        const text = formatLineProtocol(points)
        assert.deepStrictEqual(parseLineProtocol(text), points)
        assert.deepStrictEqual(parseLineProtocol(new TextEncoder().encode(text)), points)
      }),
      { numRuns },
    )
  })

  it('throws nothing but ProtocolError on arbitrary text, and re-formats whatever it accepts', () => {
    // Characters the grammar cares about, lone surrogates, and a few whole tokens.
    const chars = Array.from('mf=, "\\#\n\r\t1-.eiuT\u0000\uFEFF🚀')
    const more = ['\uD800', '\uDC00', 'false', '12i', '1.5', '"x"', 'm f=1', ' 123']
    const token = fc.constantFrom(...chars, ...more)
    const text = fc.oneof(
      fc.string({ unit: fc.oneof(token, anyChar), maxLength: 60 }),
      fc.string({ maxLength: 60 }),
    )
    fc.assert(
      fc.property(text, (input) => {
        const points = parseOrProtocolError(input)
        if (points) assert.deepStrictEqual(parseLineProtocol(formatLineProtocol(points)), points)
      }),
      { numRuns: numRuns * 3 },
    )
  })

  it('throws nothing but ProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => void parseOrProtocolError(bytes)),
      { numRuns },
    )
  })

  it('throws nothing but ProtocolError on mutated valid input', () => {
    /** Kind 0 deletes the character at `at`, 1 inserts `c` before it, 2 and 3 replace it. */
    const applyEdit = (text: string, [at, kind, c]: [number, number, string]) => {
      const i = at % (text.length + 1)
      return text.slice(0, i) + (kind === 0 ? '' : c) + text.slice(kind === 1 ? i : i + 1)
    }
    const mutation = fc.tuple(
      fc.nat(),
      fc.nat(3),
      fc.oneof(anyChar, fc.constantFrom(' ', ',', '=', '"', '\\', '\n')),
    )
    fc.assert(
      fc.property(
        fc.array(linePoint, { minLength: 1, maxLength: 3 }),
        fc.array(mutation, { maxLength: 4 }),
        (points, edits) => {
          const text = edits.reduce(applyEdit, formatLineProtocol(points))
          const parsed = parseOrProtocolError(text)
          if (parsed) assert.deepStrictEqual(parseLineProtocol(formatLineProtocol(parsed)), parsed)
        },
      ),
      { numRuns },
    )
  })
})

describe('cross-check with @influxdata/influxdb-client Point', () => {
  // Point escapes \n, \r and \t in names as two characters the spec does not define, and does not
  // guard against a leading '#'; those are outside the grammar, so the names here avoid them.
  const pointName = name.filter((s) => s !== '__proto__')
  type Built = { readonly add: (p: Point, key: string) => void; readonly expected: LineFieldValue }
  const built: fc.Arbitrary<Built> = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({
      add: (p: Point, k: string) => void p.floatField(k, v),
      // Point writes String(v), which drops the sign of -0.
      expected: { type: 'float' as const, value: v === 0 ? 0 : v },
    })),
    fc.maxSafeInteger().map((v) => ({
      add: (p: Point, k: string) => void p.intField(k, v),
      expected: { type: 'integer' as const, value: BigInt(v) },
    })),
    fc.bigInt({ min: 0n, max: uint64Max }).map((v) => ({
      add: (p: Point, k: string) => void p.uintField(k, v.toString()),
      expected: { type: 'unsigned' as const, value: v },
    })),
    stringValue.map((v) => ({
      add: (p: Point, k: string) => void p.stringField(k, v),
      expected: { type: 'string' as const, value: v },
    })),
    fc.boolean().map((v) => ({
      add: (p: Point, k: string) => void p.booleanField(k, v),
      expected: { type: 'boolean' as const, value: v },
    })),
  )
  const sorted = <T>(pairs: ReadonlyArray<readonly [string, T]>) =>
    [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

  it('parses Point.toLineProtocol() back to the same measurement, tags, fields and timestamp', () => {
    const input = fc.record({
      measurement: measurement.filter((s) => s !== '__proto__'),
      tags: fc.uniqueArray(fc.tuple(pointName, pointName), { ...byKey, maxLength: 4 }),
      fields: fc.uniqueArray(fc.tuple(pointName, built), { ...byKey, minLength: 1, maxLength: 5 }),
      timestamp,
    })
    fc.assert(
      fc.property(input, ({ measurement: m, tags, fields, timestamp: ts }) => {
        const p = new Point(m)
        for (const [k, v] of tags) p.tag(k, v)
        for (const [k, f] of fields) f.add(p, k)
        p.timestamp(ts === undefined ? '' : ts.toString())
        const line = p.toLineProtocol()
        assert.ok(line !== undefined)
        const expected: LinePoint = {
          measurement: m,
          // Point sorts tags and fields by key.
          tags: sorted(tags),
          fields: sorted(fields.map(([k, f]) => [k, f.expected] as const)),
          ...(ts === undefined ? {} : { timestamp: ts }),
        }
        assert.deepStrictEqual(parseLineProtocol(line), [expected])
      }),
      { numRuns },
    )
  })
})
