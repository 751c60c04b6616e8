import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encode } from 'cbor2'
import fc from 'fast-check'
import { ProtocolError, type ProtocolErrorCode } from '../errors/protocol-error.js'
import {
  decodeSignedManifestCbor,
  decodeSignedManifestJson,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
  maxEnvelopeBytes,
  type SignedManifest,
} from './envelope.js'
import { generateSigningKey } from './keys.js'
import type { FirmwareManifest } from './manifest.js'
import { signManifest } from './sign-manifest.js'
import { verifyManifest } from './verify-manifest.js'

const keyA = generateSigningKey()
const keyB = generateSigningKey()
const manifest: FirmwareManifest = {
  schemaVersion: 1,
  product: 'acme-sensor',
  version: '2.1.0',
  securityVersion: 3,
  hardware: ['acme-sensor-rev-b'],
  image: { sha256: '0f'.repeat(32), size: 524_288 },
  delta: {
    baseVersion: '2.0.4',
    baseSha256: 'e3'.repeat(32),
    sha256: '5a'.repeat(32),
    size: 40_960,
  },
  issuedAt: 1_700_000_000_000,
}
const signed = signManifest(manifest, [keyA, keyB])
const policy = {
  trustedKeys: [keyA.publicKey, keyB.publicKey],
  threshold: 2,
  now: 1_750_000_000_000,
}
const validJson = JSON.parse(encodeSignedManifestJson(signed)) as Record<string, unknown>
const sigB64 = Buffer.from(signed.signatures[0]?.sig ?? []).toString('base64')

function rejects(code: ProtocolErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  }
}

function onlyProtocolErrors(decode: () => SignedManifest): void {
  let envelope: SignedManifest
  try {
    envelope = decode()
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`)
    return
  }
  try {
    assert.deepEqual(verifyManifest(envelope, policy), manifest)
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`)
  }
}

describe('signed manifest wire forms', () => {
  it('round-trips sign → JSON → verify', () => {
    const text = encodeSignedManifestJson(signed)
    const parsed = JSON.parse(text) as {
      payload: string
      signatures: { keyId: string; sig: string }[]
    }
    assert.deepEqual(Object.keys(parsed), ['payload', 'signatures'])
    assert.equal(parsed.signatures[0]?.keyId, keyA.keyId)
    assert.deepEqual(decodeSignedManifestJson(text), signed)
    assert.deepEqual(decodeSignedManifestJson(new TextEncoder().encode(text)), signed)
    assert.deepEqual(verifyManifest(decodeSignedManifestJson(text), policy), manifest)
  })

  it('round-trips sign → CBOR → verify, deterministically', () => {
    const bytes = encodeSignedManifestCbor(signed)
    assert.deepEqual(encodeSignedManifestCbor(decodeSignedManifestCbor(bytes)), bytes)
    assert.deepEqual(decodeSignedManifestCbor(bytes), signed)
    assert.deepEqual(verifyManifest(decodeSignedManifestCbor(bytes), policy), manifest)
  })

  it('encodes Buffers as byte strings and refuses envelopes it would not decode', () => {
    const fromBuffers = {
      payload: Buffer.from(signed.payload),
      signatures: signed.signatures.map((s) => ({ ...s, sig: Buffer.from(s.sig) })),
    }
    assert.deepEqual(decodeSignedManifestCbor(encodeSignedManifestCbor(fromBuffers)), signed)
    assert.throws(
      () => encodeSignedManifestCbor({ payload: signed.payload, signatures: [] }),
      rejects('PROTOCOL_MANIFEST_INVALID'),
    )
    assert.throws(
      () => encodeSignedManifestJson({ payload: new Uint8Array(), signatures: signed.signatures }),
      rejects('PROTOCOL_MANIFEST_INVALID'),
    )
  })
})

describe('decodeSignedManifestJson rejects malformed input', () => {
  const sig = { keyId: keyA.keyId, sig: sigB64 }
  const cases: [string, unknown, ProtocolErrorCode][] = [
    ['payload is a number', { ...validJson, payload: 42 }, 'PROTOCOL_MANIFEST_INVALID'],
    ['signatures is an object', { ...validJson, signatures: sig }, 'PROTOCOL_MANIFEST_INVALID'],
    ['no signatures', { ...validJson, signatures: [] }, 'PROTOCOL_MANIFEST_INVALID'],
    [
      'nine signatures',
      { ...validJson, signatures: Array(9).fill(sig) },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    ['an extra top-level field', { ...validJson, version: 1 }, 'PROTOCOL_MANIFEST_INVALID'],
    [
      'an extra signature field',
      { ...validJson, signatures: [{ ...sig, alg: 'none' }] },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'an upper-case key id',
      { ...validJson, signatures: [{ ...sig, keyId: keyA.keyId.toUpperCase() }] },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'base64 with bad characters',
      { ...validJson, payload: 'not base64!' },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    ['base64 without padding', { ...validJson, payload: 'AAA' }, 'PROTOCOL_MANIFEST_INVALID'],
    ['base64url', { ...validJson, payload: '-_-_' }, 'PROTOCOL_MANIFEST_INVALID'],
    [
      'base64 with whitespace',
      { ...validJson, payload: 'AAAA\nAAAA' },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'base64 with non-zero padding bits',
      { ...validJson, payload: 'AB==' },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'bad base64 in a signature',
      { ...validJson, signatures: [{ ...sig, sig: `${sigB64}=` }] },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'brackets inside a string',
      { ...validJson, payload: '[[[[[[[[' },
      'PROTOCOL_MANIFEST_INVALID',
    ],
    ['null', null, 'PROTOCOL_MANIFEST_INVALID'],
    ['an array', ['payload', 'signatures'], 'PROTOCOL_MANIFEST_INVALID'],
    ['the envelope one level deeper', [validJson], 'PROTOCOL_TOO_LARGE'],
  ]
  for (const [name, value, code] of cases) {
    it(`rejects ${name} with ${code}`, () => {
      assert.throws(() => decodeSignedManifestJson(JSON.stringify(value)), rejects(code))
    })
  }

  it('rejects text that is not JSON, not UTF-8, a __proto__ key, deep nesting or oversize', () => {
    assert.throws(
      () => decodeSignedManifestJson('{"payload":'),
      rejects('PROTOCOL_MANIFEST_INVALID'),
    )
    assert.throws(
      () => decodeSignedManifestJson(new Uint8Array([0x7b, 0xff, 0x7d])),
      rejects('PROTOCOL_MANIFEST_INVALID'),
    )
    const proto = `{"payload":"AAAA","signatures":[{"keyId":"${keyA.keyId}","sig":"${sigB64}"}],"__proto__":{}}`
    assert.throws(() => decodeSignedManifestJson(proto), rejects('PROTOCOL_MANIFEST_INVALID'))
    assert.throws(
      () => decodeSignedManifestJson(`${'['.repeat(30_000)}${']'.repeat(30_000)}`),
      rejects('PROTOCOL_TOO_LARGE'),
    )
    const big = JSON.stringify({ ...validJson, payload: 'A'.repeat(maxEnvelopeBytes) })
    assert.throws(() => decodeSignedManifestJson(big), rejects('PROTOCOL_TOO_LARGE'))
    assert.throws(
      () => decodeSignedManifestJson(new TextEncoder().encode(big)),
      rejects('PROTOCOL_TOO_LARGE'),
    )
    // Few enough UTF-16 units to pass the quick check, too many UTF-8 bytes.
    assert.throws(
      () => decodeSignedManifestJson('é'.repeat(maxEnvelopeBytes / 2 + 1)),
      rejects('PROTOCOL_TOO_LARGE'),
    )
  })
})

describe('decodeSignedManifestCbor rejects malformed input', () => {
  const valid = encodeSignedManifestCbor(signed)
  const sig = signed.signatures[0]
  const cbor = (value: unknown): Uint8Array => new Uint8Array(encode(value))
  const cases: [string, Uint8Array, ProtocolErrorCode][] = [
    ['empty input', new Uint8Array(), 'PROTOCOL_MANIFEST_INVALID'],
    ['a lone break byte', new Uint8Array([0xff]), 'PROTOCOL_MANIFEST_INVALID'],
    ['a truncated envelope', valid.subarray(0, valid.length - 1), 'PROTOCOL_MANIFEST_INVALID'],
    ['trailing bytes', new Uint8Array([...valid, 0x00]), 'PROTOCOL_MANIFEST_INVALID'],
    ['a text payload', cbor({ payload: 'AAAA', signatures: [sig] }), 'PROTOCOL_MANIFEST_INVALID'],
    [
      'a text signature',
      cbor({ payload: signed.payload, signatures: [{ keyId: sig?.keyId, sig: sigB64 }] }),
      'PROTOCOL_MANIFEST_INVALID',
    ],
    ['an extra field', cbor({ ...signed, extra: 1 }), 'PROTOCOL_MANIFEST_INVALID'],
    [
      'integer keys',
      cbor(
        new Map<unknown, unknown>([
          [1, signed.payload],
          [2, signed.signatures],
        ]),
      ),
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'a tagged payload',
      new Uint8Array([0xa2, ...cbor('payload'), 0xc1, ...valid.subarray(1 + 8)]),
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'a duplicate key',
      new Uint8Array([0xa3, ...valid.subarray(1), ...cbor('payload'), 0x41, 0x00]),
      'PROTOCOL_MANIFEST_INVALID',
    ],
    [
      'deep nesting',
      new Uint8Array([...new Uint8Array(10_000).fill(0x81), 0x00]),
      'PROTOCOL_TOO_LARGE',
    ],
    ['oversize', new Uint8Array(maxEnvelopeBytes + 1), 'PROTOCOL_TOO_LARGE'],
  ]
  for (const [name, bytes, code] of cases) {
    it(`rejects ${name} with ${code}`, () => {
      assert.throws(() => decodeSignedManifestCbor(bytes), rejects(code))
    })
  }
})

describe('decoders under random input', () => {
  it('throw only ProtocolError for random bytes and text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlyProtocolErrors(() => decodeSignedManifestCbor(bytes))
        onlyProtocolErrors(() => decodeSignedManifestJson(bytes))
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 256 }), (text) =>
        onlyProtocolErrors(() => decodeSignedManifestJson(text)),
      ),
      { numRuns: 300 },
    )
  })

  it('throw only ProtocolError, or verify to the original, for mutated valid envelopes', () => {
    const cborBytes = encodeSignedManifestCbor(signed)
    const jsonText = encodeSignedManifestJson(signed)
    const edit = fc.record({
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
      cut: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let bytes = new Uint8Array(cborBytes)
        let text = jsonText
        for (const { at, value, cut } of edits) {
          bytes = cut
            ? bytes.subarray(0, at % (bytes.length + 1))
            : bytes.map((b, i) => (i === at % bytes.length ? value : b))
          const i = at % text.length
          text = cut
            ? text.slice(0, i)
            : text.slice(0, i) + String.fromCharCode(value) + text.slice(i + 1)
        }
        onlyProtocolErrors(() => decodeSignedManifestCbor(bytes))
        onlyProtocolErrors(() => decodeSignedManifestJson(text))
      }),
      { numRuns: 300 },
    )
  })
})
