import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolError } from '../../errors/protocol-error.js'
import { parseJson } from './parse-json.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const fails = (code: string, pattern: RegExp) => (e: unknown) =>
  e instanceof ProtocolError && e.code === code && pattern.test(e.message)

describe('parseJson', () => {
  it('parses JSON from bytes and strings', () => {
    assert.deepEqual(parseJson(bytes('{"a":[1,"x",true,null]}')), { a: [1, 'x', true, null] })
    assert.deepEqual(parseJson('"\\u00e9\\"[{"'), 'é"[{')
  })

  it('rejects invalid UTF-8 with the byte offset', () => {
    assert.throws(
      () => parseJson(new Uint8Array([0x7b, 0x22, 0x61, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      fails('PROTOCOL_MALFORMED', /UTF-8 at byte 3/),
    )
    assert.throws(
      () => parseJson(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])),
      fails('PROTOCOL_MALFORMED', /UTF-8 at byte 1/),
    )
    assert.throws(
      () => parseJson(new Uint8Array([0x22, 0xc0, 0xaf, 0x22])),
      fails('PROTOCOL_MALFORMED', /UTF-8 at byte 1/),
    )
  })

  it('rejects deep nesting before JSON.parse can exhaust the stack', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000)
    assert.throws(
      () => parseJson(deep, { maxBytes: 4_000_000 }),
      fails('PROTOCOL_TOO_LARGE', /deeper than 32 at character 32/),
    )
    assert.deepEqual(parseJson('[[["{{{{"]]]', { maxDepth: 3 }), [[['{{{{']]])
  })

  it('rejects oversized payloads before decoding them', () => {
    assert.throws(
      () => parseJson(new Uint8Array(300_000)),
      fails('PROTOCOL_TOO_LARGE', /300000 bytes exceeds 262144/),
    )
  })

  it('rejects truncated, empty and trailing input with the parser position', () => {
    for (const text of ['{"a":', '', '{"a":1} x', "{'a':1}", '{"a":NaN}', '[1,]']) {
      assert.throws(() => parseJson(text), fails('PROTOCOL_MALFORMED', /not valid JSON/), text)
    }
  })
})
