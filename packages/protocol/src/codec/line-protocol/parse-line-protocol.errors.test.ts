import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolError, type ProtocolErrorCode } from '../../errors/protocol-error.js'
import { parseLineProtocol } from './parse-line-protocol.js'
import type { LineFieldValue, LineParseOptions, LinePoint } from './types.js'

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
function rejects(
  input: string | Uint8Array,
  code: ProtocolErrorCode,
  line: number,
  column: number,
  message?: RegExp,
  options?: LineParseOptions,
): void {
  assert.throws(
    () => parseLineProtocol(input, options),
    (err: unknown) => {
      assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`)
      assert.equal(err.code, code, err.message)
      assert.deepEqual([err.details['line'], err.details['column']], [line, column], err.message)
      assert.ok(
        err.message.startsWith(`line ${String(line)}, column ${String(column)}: `),
        err.message,
      )
      if (message) assert.match(err.message, message)
      return true
    },
  )
}

describe('parseLineProtocol: syntax errors give line and column', () => {
  it('reports each truncated line where the missing part should be', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['m', 2, /expected a space and then the field set.*end of input/],
      ['m ', 3, /expected the field set/],
      ['m,', 3, /expected a tag key after ','/],
      ['m,t', 4, /expected '=' after tag key "t"/],
      ['m,t=', 5, /expected a value for tag "t".*cannot be empty/],
      ['m,t=v', 6, /expected a space and then the field set/],
      ['m,t=v ', 7, /expected the field set/],
      ['m f', 4, /expected '=' after field key "f"/],
      ['m f=', 5, /expected a value for field "f"/],
      ['m f=1,', 7, /expected a field key, found end of input/],
      ['m f=1, g=2', 7, /expected a field key, found a space/],
      ['m f=1 x', 7, /expected a timestamp/],
      ['m f=1 1x', 8, /unexpected 'x' in the timestamp/],
      ['m f=1 1 2', 9, /unexpected '2' after the timestamp/],
      [',t=1 f=1', 1, /expected a measurement name/],
      ['m,=v f=1', 3, /expected a tag key/],
      ['m,t=a=b f=1', 6, /'=' in a tag value/],
      ['m =1', 3, /expected a field key, found '='/],
    ]
    for (const [input, column, message] of cases)
      rejects(input, 'PROTOCOL_LINE_SYNTAX', 1, column, message)
  })

  it('counts lines inside multi-line strings when reporting later errors', () => {
    rejects('m f="a\nb\nc" x\nm f=1', 'PROTOCOL_LINE_SYNTAX', 3, 4, /after the timestamp|timestamp/)
  })

  it('rejects unterminated strings at their opening quote, even many lines later', () => {
    rejects('m f="abc', 'PROTOCOL_LINE_SYNTAX', 1, 5, /unterminated string/)
    rejects('m f="abc\\"', 'PROTOCOL_LINE_SYNTAX', 1, 5, /unterminated string/)
    rejects(
      'm f=1\nm g="x\n\nm h=1',
      'PROTOCOL_LINE_SYNTAX',
      2,
      5,
      /unterminated string value of field "g"/,
    )
    rejects('m f="a"b', 'PROTOCOL_LINE_SYNTAX', 1, 8, /unexpected 'b' after the value/)
  })

  it('rejects values that are not line protocol numbers or booleans', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['NaN', 5, /expected a value/],
      ['Infinity', 5, /expected a value/],
      ['-Infinity', 6, /expected a digit/],
      ['inf', 5, /expected a value/],
      ['+1', 5, /expected a value/],
      ['1e400', 5, /float64 range/],
      ['-1e400', 5, /float64 range/],
      ['1.5i', 8, /cannot have a decimal point/],
      ['1e5u', 8, /decimal point/],
      ['1e', 7, /exponent digits/],
      ['1e+', 8, /exponent digits/],
      ['.', 6, /expected a digit/],
      ['-', 6, /expected a digit/],
      ['1.2.3', 8, /unexpected '.'/],
      ['0x10', 6, /unexpected 'x'/],
      ['tru', 5, /invalid value "tru"/],
      ['yes', 5, /expected a value/],
      ['truE', 5, /invalid value/],
      ['9223372036854775808i', 5, /out of range/],
      ['-9223372036854775809i', 5, /out of range/],
      ['18446744073709551616u', 5, /out of range/],
      ['-1u', 5, /cannot be negative/],
      ['-0u', 5, /negative/],
      ['1_000', 6, /unexpected '_'/],
      ['i', 5, /invalid value "i"|expected a value/],
      ["'s'", 5, /expected a value/],
    ]
    for (const [value, column, message] of cases)
      rejects(`m f=${value}`, 'PROTOCOL_LINE_SYNTAX', 1, column, message)
    rejects('m f=1 9223372036854775807', 'PROTOCOL_LINE_SYNTAX', 1, 7, /timestamp .* out of range/)
    rejects('m f=1 -9223372036854775807', 'PROTOCOL_LINE_SYNTAX', 1, 7, /out of range/)
  })

  it('rejects duplicate tag and field keys at the second key', () => {
    rejects('m,a=1,a=2 f=1', 'PROTOCOL_LINE_SYNTAX', 1, 7, /duplicate tag key "a"/)
    rejects('m f=1,f=2', 'PROTOCOL_LINE_SYNTAX', 1, 7, /duplicate field key "f"/)
    rejects('m a\\ b=1,a\\ b=2', 'PROTOCOL_LINE_SYNTAX', 1, 10, /duplicate field key "a b"/)
  })

  it('rejects control characters and NUL in names, and lone carriage returns', () => {
    rejects('m\u0000 f=1', 'PROTOCOL_LINE_SYNTAX', 1, 2, /U\+0000/)
    rejects(
      'm,t\u0000=v f=1',
      'PROTOCOL_LINE_SYNTAX',
      1,
      4,
      /tag key contains control character U\+0000/,
    )
    rejects('m,t=\u0007 f=1', 'PROTOCOL_LINE_SYNTAX', 1, 5, /tag value contains/)
    rejects(
      'm f\u007f=1',
      'PROTOCOL_LINE_SYNTAX',
      1,
      4,
      /field key contains control character U\+007F/,
    )
    rejects('m\tf=1', 'PROTOCOL_LINE_SYNTAX', 1, 2, /U\+0009/)
    rejects('m\\\u0000 f=1', 'PROTOCOL_LINE_SYNTAX', 1, 3, /U\+0000/)
    rejects('m f=1\rm g=2', 'PROTOCOL_LINE_SYNTAX', 1, 6, /U\+000D after the value/)
    rejects('🚀🚀 f=1,x', 'PROTOCOL_LINE_SYNTAX', 1, 9, /expected '=' after field key "x"/)
  })

  it('rejects invalid UTF-8 with the byte offset, line and column of the first bad byte', () => {
    const bytes = (...parts: Array<string | number[]>) =>
      new Uint8Array(
        parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)),
      )
    const cases: Array<[Uint8Array, number, number, number]> = [
      [bytes('m f=1\nm', [0xff]), 2, 2, 7],
      [bytes([0xc0, 0x80], ' f=1'), 1, 1, 0],
      [bytes('m f="é', [0xed, 0xa0, 0x80], '"'), 1, 7, 7],
      [bytes('m f=1 # ', [0xe2, 0x82]), 1, 9, 8],
      [bytes('m,t=🍭', [0xf4, 0x90, 0x80, 0x80], ' f=1'), 1, 6, 8],
    ]
    for (const [input, line, column, byteOffset] of cases) {
      rejects(
        input,
        'PROTOCOL_MALFORMED',
        line,
        column,
        new RegExp(`byte offset ${String(byteOffset)} `),
      )
    }
  })

  it('rejects lone surrogates in string input', () => {
    rejects('m f="\uD800"', 'PROTOCOL_MALFORMED', 1, 6, /lone UTF-16 surrogate U\+D800/)
    rejects('m\nm\uDC00 f=1', 'PROTOCOL_MALFORMED', 2, 2, /U\+DC00/)
  })
})

describe('parseLineProtocol: limits and hostile input', () => {
  const isTooLarge = (err: unknown) =>
    err instanceof ProtocolError && err.code === 'PROTOCOL_TOO_LARGE'

  it('refuses input over maxBytes before parsing it', () => {
    const input = `m f="${'x'.repeat(100)}"`
    assert.throws(() => parseLineProtocol(input, { maxBytes: 100 }), isTooLarge)
    assert.throws(
      () => parseLineProtocol(new TextEncoder().encode(input), { maxBytes: 100 }),
      isTooLarge,
    )
    assert.throws(() => parseLineProtocol('é'.repeat(51), { maxBytes: 101 }), isTooLarge)
    assert.equal(parseLineProtocol('m f="éé"', { maxBytes: 10 }).length, 1)
    assert.throws(() => parseLineProtocol('x'.repeat(1_048_577)), isTooLarge)
  })

  it('refuses more than maxLines points, not counting comments and blank lines', () => {
    rejects('m f=1\nm f=2\nm f=3', 'PROTOCOL_TOO_LARGE', 3, 1, /more than 2 points/, {
      maxLines: 2,
    })
    assert.equal(parseLineProtocol('# c\n\nm f=1\n# c\nm f=2\n', { maxLines: 2 }).length, 2)
    rejects('m f=1\n'.repeat(10_001), 'PROTOCOL_TOO_LARGE', 10_001, 1, /more than 10000 points/)
  })

  it('refuses names over maxNameBytes and strings over maxStringBytes, at their start', () => {
    assert.equal(one(`${'a'.repeat(256)} f=1`).measurement.length, 256)
    rejects(
      `${'a'.repeat(257)} f=1`,
      'PROTOCOL_TOO_LARGE',
      1,
      1,
      /measurement is longer than 256 bytes/,
    )
    rejects(`m,t=${'é'.repeat(129)} f=1`, 'PROTOCOL_TOO_LARGE', 1, 5, /tag value is longer/)
    rejects('m,k=v abcd=1', 'PROTOCOL_TOO_LARGE', 1, 7, /field key is longer than 3 bytes/, {
      maxNameBytes: 3,
    })
    rejects('m f="abcde"', 'PROTOCOL_TOO_LARGE', 1, 5, /longer than 4 bytes/, { maxStringBytes: 4 })
    assert.equal(field('m f="a\\"c\\\\"').value, 'a"c\\')
    assert.equal(parseLineProtocol('m f="a\\"c\\\\"', { maxStringBytes: 4 }).length, 1)
  })

  it('fails fast and cleanly on large garbage', () => {
    const cases: Array<[string, number, number]> = [
      [','.repeat(10_000), 1, 1],
      ['\\'.repeat(100_000), 1, 100_001],
      ['='.repeat(10_000), 1, 10_001],
      [`m f=${'"'.repeat(9_999)}`, 1, 7],
      [`m ${'a'.repeat(200)}${' '.repeat(10_000)}`, 1, 203],
      [`m f=1${' 1'.repeat(10_000)}`, 1, 9],
      [`${'m f=1\n'.repeat(5_000)}m f=1,,`, 5_001, 7],
    ]
    for (const [input, line, column] of cases) {
      assert.throws(
        () => parseLineProtocol(input, { maxNameBytes: 1_000_000 }),
        (err: unknown) => {
          assert.ok(err instanceof ProtocolError)
          assert.deepEqual(
            [err.details['line'], err.details['column']],
            [line, column],
            err.message,
          )
          return true
        },
      )
    }
    assert.deepEqual(parseLineProtocol('\n'.repeat(100_000)), [])
    assert.deepEqual(parseLineProtocol(`#${'x'.repeat(100_000)}`), [])
    const manyFields = Array.from({ length: 10_000 }, (_, i) => `f${String(i)}=${String(i)}i`).join(
      ',',
    )
    assert.equal(parseLineProtocol(`m ${manyFields}`)[0]?.fields.length, 10_000)
  })

  it('handles megabyte numbers in linear time', () => {
    const big = { maxBytes: 4_000_000 }
    const digits = '9'.repeat(1_000_000)
    const started = performance.now()
    rejects(`m f=${digits}i`, 'PROTOCOL_LINE_SYNTAX', 1, 5, /out of range/, big)
    rejects(`m f=${digits}u`, 'PROTOCOL_LINE_SYNTAX', 1, 5, /out of range/, big)
    rejects(`m f=${digits}`, 'PROTOCOL_LINE_SYNTAX', 1, 5, /float64 range/, big)
    rejects(`m f=1e${digits}`, 'PROTOCOL_LINE_SYNTAX', 1, 5, /float64 range/, big)
    rejects(`m f=1 ${digits}`, 'PROTOCOL_LINE_SYNTAX', 1, 7, /timestamp .* out of range/, big)
    assert.equal(field(`m f=1e-${digits}`).value, 0)
    assert.equal(
      parseLineProtocol(`m f=0.${'0'.repeat(1_000_000)}1`, big)[0]?.fields[0]?.[1].value,
      0,
    )
    assert.ok(performance.now() - started < 3_000, 'megabyte numbers took too long')
  })

  it('refuses input that is not text and options that are not counts', () => {
    const isInvalid = (err: unknown) =>
      err instanceof ProtocolError && err.code === 'PROTOCOL_INVALID'
    assert.throws(() => parseLineProtocol(42 as unknown as string), isInvalid)
    assert.throws(() => parseLineProtocol('m f=1', { maxLines: -1 }), isInvalid)
    assert.throws(() => parseLineProtocol('m f=1', { maxBytes: Number.NaN }), isInvalid)
    assert.equal(parseLineProtocol('m f=1', { maxBytes: Infinity }).length, 1)
  })

  it('throws only ProtocolError for every prefix of a rich input', () => {
    const input =
      'a\\ b,t\\=1=v\\,1,u=🍭 s="x\\"y\nz",i=-12i,u=3u,f=-1.5e-3,b=TRUE 1556813561098000000\r\n# c\n'
    for (let end = 0; end <= input.length; end++) {
      try {
        parseLineProtocol(input.slice(0, end))
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `prefix ${String(end)}: ${String(err)}`)
      }
    }
  })
})
