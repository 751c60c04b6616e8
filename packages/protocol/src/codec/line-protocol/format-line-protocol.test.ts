import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolError } from '../../errors/protocol-error.js'
import { formatLineProtocol } from './format-line-protocol.js'
import { parseLineProtocol } from './parse-line-protocol.js'
import type { LineFieldValue, LinePoint } from './types.js'

const f = (value: number): LineFieldValue => ({ type: 'float', value })
const point = (fields: LinePoint['fields'], extra: Partial<LinePoint> = {}): LinePoint => ({
  measurement: 'm',
  tags: [],
  fields,
  ...extra,
})

/** Asserts PROTOCOL_INVALID naming the point's index and matching `message`. */
function refuses(points: readonly LinePoint[], message: RegExp, index = 0): void {
  assert.throws(
    () => formatLineProtocol(points),
    (err: unknown) => {
      assert.ok(err instanceof ProtocolError, String(err))
      assert.equal(err.code, 'PROTOCOL_INVALID')
      assert.equal(err.details['point'], index)
      assert.match(err.message, message)
      return true
    },
  )
}

describe('formatLineProtocol', () => {
  it('formats every data type with its suffix or quotes', () => {
    const line = formatLineProtocol([
      point(
        [
          ['f', f(21.5)],
          ['i', { type: 'integer', value: -12485903n }],
          ['u', { type: 'unsigned', value: 12485903n }],
          ['s', { type: 'string', value: 'this is a string' }],
          ['t', { type: 'boolean', value: true }],
          ['n', { type: 'boolean', value: false }],
        ],
        { tags: [['tag1', 'value1']], timestamp: 1556813561098000000n },
      ),
    ])
    assert.equal(
      line,
      'm,tag1=value1 f=21.5,i=-12485903i,u=12485903u,s="this is a string",t=true,n=false 1556813561098000000',
    )
  })

  it('writes floats as shortest round-trip text, negative zero as -0', () => {
    const cases: Array<[number, string]> = [
      [1, '1'],
      [-0, '-0'],
      [0, '0'],
      [1e21, '1e+21'],
      [5e-324, '5e-324'],
      [-1.5e-7, '-1.5e-7'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [0.1, '0.1'],
      [123456789012345680000, '123456789012345680000'],
    ]
    for (const [value, text] of cases) {
      const line = formatLineProtocol([point([['v', f(value)]])])
      assert.equal(line, `m v=${text}`)
      assert.ok(Object.is(parseLineProtocol(line)[0]?.fields[0]?.[1].value, value), text)
    }
  })

  it('writes int64 and uint64 extremes', () => {
    const line = formatLineProtocol([
      point(
        [
          ['a', { type: 'integer', value: -(2n ** 63n) }],
          ['b', { type: 'integer', value: 2n ** 63n - 1n }],
          ['c', { type: 'unsigned', value: 2n ** 64n - 1n }],
          ['d', { type: 'unsigned', value: 0n }],
        ],
        { timestamp: -(2n ** 63n) + 2n },
      ),
    ])
    assert.equal(
      line,
      'm a=-9223372036854775808i,b=9223372036854775807i,c=18446744073709551615u,d=0u -9223372036854775806',
    )
  })

  it('escapes each element by its own rules', () => {
    const line = formatLineProtocol([
      {
        measurement: 'my Measurement,x=y"\\#',
        tags: [
          ['tag Key,=', 'tag Value,="\\x'],
          ['\\\\k', '#'],
        ],
        fields: [
          ['field Key,="', { type: 'string', value: 'say "hi"\\ \\\\ C:\\dir\nnext line,= ' }],
        ],
      },
    ])
    assert.equal(
      line,
      'my\\ Measurement\\,x=y"\\#,tag\\ Key\\,\\==tag\\ Value\\,\\="\\x,\\\\k=# ' +
        'field\\ Key\\,\\="="say \\"hi\\"\\\\ \\\\\\\\ C:\\\\dir\nnext line,= "',
    )
    assert.deepEqual(parseLineProtocol(line), [
      {
        measurement: 'my Measurement,x=y"\\#',
        tags: [
          ['tag Key,=', 'tag Value,="\\x'],
          ['\\\\k', '#'],
        ],
        fields: [
          ['field Key,="', { type: 'string', value: 'say "hi"\\ \\\\ C:\\dir\nnext line,= ' }],
        ],
      },
    ])
  })

  it('keeps a backslash before a special character in a name', () => {
    const p: LinePoint = {
      measurement: 'a\\ b\\,c',
      tags: [['k\\=', 'v\\,w']],
      fields: [['f\\ ', f(1)]],
    }
    const line = formatLineProtocol([p])
    assert.equal(line, 'a\\\\ b\\\\,c,k\\\\==v\\\\,w f\\\\ =1')
    assert.deepEqual(parseLineProtocol(line), [p])
  })

  it('joins points with \\n and no trailing newline, and formats none as the empty string', () => {
    assert.equal(formatLineProtocol([point([['a', f(1)]]), point([['b', f(2)]])]), 'm a=1\nm b=2')
    assert.equal(formatLineProtocol([]), '')
  })

  it('round-trips the examples of the InfluxDB v2 reference', () => {
    const input = [
      'myMeasurement,tag1=value1,tag2=value2 fieldKey="fieldValue" 1556813561098000000',
      'my\\ Measurement fieldKey="string value"',
      'myMeasurement fieldKey="\\"string\\" within a string"',
      'myMeasurement,tag\\ Key1=tag\\ Value1,tag\\ Key2=tag\\ Value2 fieldKey=100',
      'myMeasurement,tagKey=🍭 fieldKey="Launch 🚀" 1556813561098000000',
      'myMeasurement fieldKey=-1.234456e+78,i=-12485903i,u=12485903u,b=true',
    ].join('\n')
    assert.equal(formatLineProtocol(parseLineProtocol(input)), input)
  })

  it('refuses values line protocol cannot carry', () => {
    refuses([point([['v', f(Number.NaN)]])], /finite number, not NaN/)
    refuses([point([['v', f(Infinity)]])], /not Infinity/)
    refuses([point([['v', f(-Infinity)]])], /not -Infinity/)
    refuses([point([['v', { type: 'integer', value: 2n ** 63n }]])], /out of range/)
    refuses([point([['v', { type: 'integer', value: -(2n ** 63n) - 1n }]])], /out of range/)
    refuses([point([['v', { type: 'unsigned', value: -1n }]])], /out of range/)
    refuses([point([['v', { type: 'unsigned', value: 2n ** 64n }]])], /out of range/)
    refuses([point([['v', f(1)]], { timestamp: 2n ** 63n - 1n })], /timestamp .* out of range/)
    refuses([point([['v', { type: 'string', value: 'lone \uD800' }]])], /lone UTF-16 surrogate/)
    refuses(
      [point([['v', { type: 'integer', value: 1 as unknown as bigint }]])],
      /must be a bigint/,
    )
    refuses(
      [point([['v', { type: 'decimal', value: 1 } as unknown as LineFieldValue]])],
      /unknown type "decimal"/,
    )
  })

  it('refuses points the grammar cannot express, naming the point', () => {
    const ok = point([['v', f(1)]])
    refuses([ok, point([])], /at least one field/, 1)
    refuses([{ ...ok, measurement: '' }], /measurement must be a non-empty string/)
    refuses([{ ...ok, measurement: '#m' }], /starts with '#'/)
    refuses([{ ...ok, measurement: '\uFEFFm' }], /U\+FEFF/)
    refuses([{ ...ok, measurement: 'm\\' }], /measurement "m\\\\" ends with a backslash/)
    refuses([{ ...ok, tags: [['', 'v']] }], /tag key must be a non-empty string/)
    refuses([{ ...ok, tags: [['k', '']] }], /tag value must be a non-empty string/)
    refuses([{ ...ok, tags: [['k\\', 'v']] }], /tag key .* ends with a backslash/)
    refuses([{ ...ok, tags: [['k', 'v\\']] }], /tag value .* ends with a backslash/)
    refuses(
      [
        {
          ...ok,
          tags: [
            ['k', 'a'],
            ['k', 'b'],
          ],
        },
      ],
      /duplicate tag key "k"/,
    )
    refuses([point([['', f(1)]])], /field key must be a non-empty string/)
    refuses([point([['f\\', f(1)]])], /field key .* ends with a backslash/)
    refuses(
      [
        point([
          ['f', f(1)],
          ['f', f(2)],
        ]),
      ],
      /duplicate field key "f"/,
    )
    refuses([{ ...ok, measurement: 'line\nbreak' }], /control character U\+000A/)
    refuses([{ ...ok, tags: [['k', 'tab\there']] }], /control character U\+0009/)
    refuses([point([['nul\u0000', f(1)]])], /control character U\+0000/)
    refuses([{ ...ok, measurement: 'x\uDC00' }], /lone UTF-16 surrogate/)
  })

  it('allows a # anywhere but at the start of the measurement', () => {
    const p: LinePoint = { measurement: 'm#', tags: [['#k', '#v']], fields: [['#f', f(1)]] }
    assert.deepEqual(parseLineProtocol(formatLineProtocol([p])), [p])
  })
})
