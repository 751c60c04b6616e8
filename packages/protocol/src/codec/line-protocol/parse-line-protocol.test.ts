import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseLineProtocol } from './parse-line-protocol.js'
import type { LineFieldValue, LinePoint } from './types.js'

function one(line: string): LinePoint {
  const points = parseLineProtocol(line)
  assert.equal(points.length, 1)
  const [point] = points
  assert.ok(point)
  return point
}

function field(line: string): LineFieldValue {
  const value = one(line).fields[0]?.[1]
  assert.ok(value)
  return value
}

/** Asserts that parsing fails with `code` at `line`:`column`, the message saying so first. */
describe('parseLineProtocol: data types', () => {
  it('reads floats in every form the grammar allows', () => {
    const cases: Array<[string, number]> = [
      ['1.0', 1],
      ['1', 1],
      ['-1.234456e+78', -1.234456e78],
      ['1e+21', 1e21],
      ['-1.5E-3', -0.0015],
      ['.5', 0.5],
      ['-.5', -0.5],
      ['1.', 1],
      ['1.e5', 1e5],
      ['5e-324', 5e-324],
      ['007.5', 7.5],
      ['1.7976931348623157e308', Number.MAX_VALUE],
      ['1e-400', 0],
      ['0.1', 0.1],
    ]
    for (const [text, value] of cases)
      assert.deepEqual(field(`m f=${text}`), { type: 'float', value }, text)
    assert.ok(Object.is(field('m f=-0').value, -0))
    assert.ok(Object.is(field('m f=-0.0e0').value, -0))
  })

  it('reads int64 integers up to both ends of the range', () => {
    assert.deepEqual(field('m f=12i'), { type: 'integer', value: 12n })
    assert.deepEqual(field('m f=-0i'), { type: 'integer', value: 0n })
    assert.deepEqual(field('m f=-9223372036854775808i'), { type: 'integer', value: -(2n ** 63n) })
    assert.deepEqual(field('m f=9223372036854775807i'), { type: 'integer', value: 2n ** 63n - 1n })
    assert.deepEqual(field(`m f=${'0'.repeat(1000)}42i`), { type: 'integer', value: 42n })
  })

  it('reads uint64 unsigned integers up to 18446744073709551615u', () => {
    assert.deepEqual(field('m f=0u'), { type: 'unsigned', value: 0n })
    assert.deepEqual(field('m f=18446744073709551615u'), {
      type: 'unsigned',
      value: 2n ** 64n - 1n,
    })
  })

  it('reads strings with \\" and \\\\ escapes, keeping other backslashes and line breaks', () => {
    assert.deepEqual(field('m f="this is a string"'), { type: 'string', value: 'this is a string' })
    assert.deepEqual(field('m f=""'), { type: 'string', value: '' })
    assert.deepEqual(field('m f="\\"string\\" within a string"'), {
      type: 'string',
      value: '"string" within a string',
    })
    assert.deepEqual(field('m f="a,b=c d\\n\\t#"'), { type: 'string', value: 'a,b=c d\\n\\t#' })
    assert.deepEqual(field('m f="two\nlines\r\n"'), { type: 'string', value: 'two\nlines\r\n' })
    assert.deepEqual(field('m f="nul\u0000 and tab\t"'), {
      type: 'string',
      value: 'nul\u0000 and tab\t',
    })
  })

  it('reads backslash runs in strings as the spec table says', () => {
    // Spec "Escaping backslashes": \ → \, \\ → \, \\\ → \\, \\\\ → \\, \\\\\ → \\\, \\\\\\ → \\\.
    const table: Array<[number, number]> = [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 3],
      [6, 3],
    ]
    for (const [written, read] of table) {
      const value = field(`m f="a${'\\'.repeat(written)}b"`)
      assert.deepEqual(value, { type: 'string', value: `a${'\\'.repeat(read)}b` }, String(written))
    }
  })

  it('reads every boolean spelling', () => {
    for (const t of ['t', 'T', 'true', 'True', 'TRUE'])
      assert.deepEqual(field(`m f=${t}`), { type: 'boolean', value: true })
    for (const f of ['f', 'F', 'false', 'False', 'FALSE'])
      assert.deepEqual(field(`m f=${f}`), { type: 'boolean', value: false })
  })

  it('reads signed timestamps up to ±9223372036854775806, and no timestamp as absent', () => {
    assert.equal(one('m f=1 1556813561098000000').timestamp, 1556813561098000000n)
    assert.equal(one('m f=1 -9223372036854775806').timestamp, -(2n ** 63n) + 2n)
    assert.equal(one('m f=1 9223372036854775806').timestamp, 2n ** 63n - 2n)
    assert.equal(one('m f=1 0').timestamp, 0n)
    assert.equal('timestamp' in one('m f=1'), false)
    assert.equal('timestamp' in one('m f=1   '), false)
  })
})

describe('parseLineProtocol: escapes and structure', () => {
  it('unescapes comma and space in measurements, and nothing else', () => {
    assert.equal(one('my\\ Measurement f=1').measurement, 'my Measurement')
    assert.equal(one('a\\,b f=1').measurement, 'a,b')
    assert.equal(one('a=b\\=c f=1').measurement, 'a=b\\=c')
    assert.equal(one('a\\\\b f=1').measurement, 'a\\\\b')
    assert.equal(one('a\\\\,b f=1').measurement, 'a\\,b')
    assert.equal(one('\\#m f=1').measurement, '\\#m')
    assert.equal(one('"q\'uoted" f=1').measurement, '"q\'uoted"')
  })

  it('unescapes comma, equals and space in tag keys, tag values and field keys', () => {
    const point = one('m,tag\\ Key1=tag\\ Value1,k\\,\\=\\ =v\\,\\=\\ ,b\\x=\\\\ k f\\ \\,\\==1')
    assert.deepEqual(point.tags, [
      ['tag Key1', 'tag Value1'],
      ['k,= ', 'v,= '],
      ['b\\x', '\\ k'],
    ])
    assert.deepEqual(point.fields, [['f ,=', { type: 'float', value: 1 }]])
  })

  it('keeps tags and fields in input order', () => {
    const point = one('m,z=1,a=2 z=1i,a=2i')
    assert.deepEqual(
      point.tags.map(([k]) => k),
      ['z', 'a'],
    )
    assert.deepEqual(
      point.fields.map(([k]) => k),
      ['z', 'a'],
    )
  })

  it('skips comments and blank lines and accepts CRLF, leading and repeated spaces', () => {
    const input =
      '\uFEFF# This is a comment\r\n\r\n   \n  # indented comment\n\t#tab\n' +
      '  m,t=v  f=1   5  \r\nm2 f=2\n\n# trailing\r'
    const points = parseLineProtocol(input)
    assert.deepEqual(
      points.map((p) => [p.measurement, p.timestamp]),
      [
        ['m', 5n],
        ['m2', undefined],
      ],
    )
    assert.deepEqual(parseLineProtocol(''), [])
    assert.deepEqual(parseLineProtocol('m f=1\r').length, 1)
    assert.deepEqual(parseLineProtocol('#only a comment'), [])
  })

  it('reads Uint8Array input as UTF-8', () => {
    const points = parseLineProtocol(
      new TextEncoder().encode('m,tagKey=🍭 fieldKey="Launch 🚀" 1556813561098000000'),
    )
    assert.deepEqual(points, [
      {
        measurement: 'm',
        tags: [['tagKey', '🍭']],
        fields: [['fieldKey', { type: 'string', value: 'Launch 🚀' }]],
        timestamp: 1556813561098000000n,
      },
    ])
  })

  it('parses the examples of the InfluxDB v2 line protocol reference', () => {
    const input = [
      'myMeasurement,tag1=value1,tag2=value2 fieldKey="fieldValue" 1556813561098000000',
      'measurementName fieldKey="field string value" 1556813561098000000',
      'myMeasurement fieldKey=1.0',
      'myMeasurement fieldKey=1',
      'myMeasurement fieldKey=-1.234456e+78',
      'myMeasurement fieldKey=12485903i',
      'myMeasurement fieldKey=-12485903i',
      'myMeasurement fieldKey=12485903u',
      '# String measurement name, field key, and field value',
      'myMeasurement fieldKey="this is a string"',
      'myMeasurement fieldKey=TRUE',
      'my\\ Measurement fieldKey="string value"',
      'myMeasurement fieldKey="\\"string\\" within a string"',
      'myMeasurement,tag\\ Key1=tag\\ Value1,tag\\ Key2=tag\\ Value2 fieldKey=100',
      'myMeasurement,tagKey=🍭 fieldKey="Launch 🚀" 1556813561098000000',
    ].join('\n')
    const points = parseLineProtocol(input)
    assert.equal(points.length, 14)
    assert.deepEqual(points[0], {
      measurement: 'myMeasurement',
      tags: [
        ['tag1', 'value1'],
        ['tag2', 'value2'],
      ],
      fields: [['fieldKey', { type: 'string', value: 'fieldValue' }]],
      timestamp: 1556813561098000000n,
    })
    assert.deepEqual(points[6]?.fields, [['fieldKey', { type: 'integer', value: -12485903n }]])
    assert.deepEqual(points[12]?.tags, [
      ['tag Key1', 'tag Value1'],
      ['tag Key2', 'tag Value2'],
    ])
  })

  it('accepts NUL and other control characters inside string values', () => {
    const input = new Uint8Array([
      ...new TextEncoder().encode('m f="'),
      0,
      1,
      0x1f,
      ...new TextEncoder().encode('"'),
    ])
    assert.deepEqual(parseLineProtocol(input)[0]?.fields, [
      ['f', { type: 'string', value: '\u0000\u0001\u001f' }],
    ])
  })
})
