import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../../errors/protocol-error.js'
import { decodeCbor, type CborValue } from './decode-cbor.js'
import { encodeCbor } from './encode-cbor.js'
import { halfToNumber, numberToHalf } from './half-float.js'

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fails = (code: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof ProtocolError &&
  e.code === code &&
  (pattern === undefined || pattern.test(e.message))

describe('decodeCbor: RFC 8949 Appendix A examples', () => {
  const cases: [string, CborValue][] = [
    ['00', 0n],
    ['17', 23n],
    ['1818', 24n],
    ['1903e8', 1000n],
    ['1a000f4240', 1000000n],
    ['1b000000e8d4a51000', 1000000000000n],
    ['1bffffffffffffffff', 18446744073709551615n],
    ['3bffffffffffffffff', -18446744073709551616n],
    ['20', -1n],
    ['3903e7', -1000n],
    ['f90000', 0],
    ['f98000', -0],
    ['f93c00', 1],
    ['fb3ff199999999999a', 1.1],
    ['f93e00', 1.5],
    ['f97bff', 65504],
    ['fa47c35000', 100000],
    ['fa7f7fffff', 3.4028234663852886e38],
    ['fb7e37e43c8800759c', 1e300],
    ['f90001', 5.960464477539063e-8],
    ['f90400', 0.00006103515625],
    ['f9c400', -4],
    ['f97c00', Infinity],
    ['f9fc00', -Infinity],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['40', new Uint8Array()],
    ['4401020304', new Uint8Array([1, 2, 3, 4])],
    ['60', ''],
    ['6161', 'a'],
    ['6449455446', 'IETF'],
    ['62225c', '"\\'],
    ['62c3bc', '\u00fc'],
    ['63e6b0b4', '\u6c34'],
    ['64f0908591', '\u{10151}'],
    ['80', []],
    ['83010203', [1n, 2n, 3n]],
    ['8301820203820405', [1n, [2n, 3n], [4n, 5n]]],
    ['a0', {}],
    ['a26161016162820203', { a: 1n, b: [2n, 3n] }],
    ['5f42010243030405ff', new Uint8Array([1, 2, 3, 4, 5])],
    ['7f657374726561646d696e67ff', 'streaming'],
    ['9fff', []],
    ['9f018202039f0405ffff', [1n, [2n, 3n], [4n, 5n]]],
    ['bf61610161629f0203ffff', { a: 1n, b: [2n, 3n] }],
  ]
  for (const [input, expected] of cases) {
    it(`decodes ${input}`, () => assert.deepEqual(decodeCbor(hex(input)), expected))
  }

  it('decodes NaN', () => assert.ok(Number.isNaN(decodeCbor(hex('f97e00')))))
  it('returns integers as numbers when asked', () =>
    assert.deepEqual(decodeCbor(hex('83010203'), { integers: 'number' }), [1, 2, 3]))
})

describe('encodeCbor: preferred serialisation', () => {
  it('writes the shortest heads and floats', () => {
    assert.equal(toHex(encodeCbor(1000n)), '1903e8')
    assert.equal(toHex(encodeCbor(-1000n)), '3903e7')
    assert.equal(toHex(encodeCbor(1.5, { numbers: 'float' })), 'f93e00')
    assert.equal(toHex(encodeCbor(100000, { numbers: 'float' })), 'fa47c35000')
    assert.equal(toHex(encodeCbor(1.1, { numbers: 'float' })), 'fb3ff199999999999a')
    assert.equal(toHex(encodeCbor(NaN, { numbers: 'float' })), 'f97e00')
    assert.equal(toHex(encodeCbor(-0, { numbers: 'float' })), 'f98000')
    assert.equal(toHex(encodeCbor(5, { numbers: 'auto' })), '05')
    assert.equal(toHex(encodeCbor(5, { numbers: 'float' })), 'f94500')
    assert.equal(toHex(encodeCbor({ a: 1n, b: [2n, 3n] })), 'a26161016162820203')
    assert.equal(toHex(encodeCbor({ t: 21.5 }, { numbers: 'float' })), 'a16174f94d60')
  })

  it('refuses integers beyond 64 bits', () => {
    assert.throws(() => encodeCbor(2n ** 64n), fails('PROTOCOL_UNSUPPORTED'))
    assert.throws(() => encodeCbor(-(2n ** 64n) - 1n), fails('PROTOCOL_UNSUPPORTED'))
  })
})

describe('half floats', () => {
  it('round-trip every binary16 bit pattern that is not NaN', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = halfToNumber(bits)
      if (Number.isNaN(x)) continue
      assert.equal(numberToHalf(x), bits, `bits ${bits.toString(16)}`)
    }
  })
})

describe('decodeCbor: hostile input is a clear error, never a crash', () => {
  const cases: [string, string, string, RegExp][] = [
    ['empty input', '', 'PROTOCOL_MALFORMED', /empty/],
    ['truncated map', 'a26161', 'PROTOCOL_MALFORMED', /declared length 2 exceeds/],
    [
      'truncated text',
      'a16261',
      'PROTOCOL_MALFORMED',
      /byte 1: declared length 2 exceeds the 1 bytes/,
    ],
    ['truncated head', '1a0001', 'PROTOCOL_MALFORMED', /byte 0/],
    ['array claiming 2^32 items', '9b0000000100000000', 'PROTOCOL_MALFORMED', /declared length/],
    ['bytes claiming 4 GiB', '5b0000000100000000', 'PROTOCOL_MALFORMED', /declared length/],
    ['map claiming more pairs than bytes', 'b90100', 'PROTOCOL_MALFORMED', /declared length/],
    ['trailing bytes', '0102', 'PROTOCOL_MALFORMED', /1 bytes follow/],
    ['reserved additional info', '1c', 'PROTOCOL_MALFORMED', /reserved/],
    ['lone break', 'ff', 'PROTOCOL_MALFORMED', /break/],
    ['unterminated indefinite array', '9f01', 'PROTOCOL_MALFORMED', /ends in the middle/],
    ['nested indefinite string chunk', '5f5f4101ffff', 'PROTOCOL_MALFORMED', /wrong type/],
    ['text chunk in a byte string', '5f6161ff', 'PROTOCOL_MALFORMED', /wrong type/],
    ['invalid UTF-8', '62c328', 'PROTOCOL_MALFORMED', /not valid UTF-8 at byte 1/],
    ['UTF-8 surrogate', '63eda080', 'PROTOCOL_MALFORMED', /UTF-8/],
    ['duplicate key', 'a2616101616102', 'PROTOCOL_MALFORMED', /duplicate map key "a"/],
    ['integer map key', 'a10101', 'PROTOCOL_UNSUPPORTED', /text strings/],
    ['tag', 'c11a514b67b0', 'PROTOCOL_UNSUPPORTED', /tag 1/],
    ['undefined', 'f7', 'PROTOCOL_UNSUPPORTED', /undefined/],
    ['simple value', 'f0', 'PROTOCOL_UNSUPPORTED', /simple value 16/],
  ]
  for (const [name, input, code, pattern] of cases) {
    it(`rejects ${name}`, () => assert.throws(() => decodeCbor(hex(input)), fails(code, pattern)))
  }

  it('rejects nesting deeper than the limit without touching the stack', () => {
    assert.throws(
      () => decodeCbor(new Uint8Array(1_000_000).fill(0x81), { maxBytes: 2_000_000 }),
      fails('PROTOCOL_TOO_LARGE', /byte 32: nesting deeper than 32/),
    )
    assert.throws(() => decodeCbor(new Uint8Array(100).fill(0x9f)), fails('PROTOCOL_TOO_LARGE'))
  })

  it('rejects an oversized payload before reading it', () => {
    assert.throws(() => decodeCbor(new Uint8Array(300_000)), fails('PROTOCOL_TOO_LARGE', /exceeds/))
  })

  it('keeps a __proto__ key as a plain own property', () => {
    const value = decodeCbor(hex('a1695f5f70726f746f5f5fa1617801')) as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
    assert.deepEqual(Object.keys(value), ['__proto__'])
    assert.equal((value as { x?: unknown }).x, undefined)
  })

  it('throws nothing but ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCbor(bytes)
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e))
        }
      }),
      { numRuns: 20_000 },
    )
  })
})

/** Values whose integers are bigints and whose floats are numbers: they survive a round trip. */
const cborValue = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value

describe('CBOR round trip', () => {
  it('decode(encode(x)) equals x for every value of the subset', () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        assert.deepEqual(
          decodeCbor(encodeCbor(value, { numbers: 'float' }), { maxDepth: 64 }),
          value,
        )
      }),
      { numRuns: 2_000 },
    )
  })
})
