import assert from 'node:assert/strict'
import { sign } from 'node:crypto'
import { describe, it } from 'node:test'
import { ProtocolError, type ProtocolErrorCode } from '../errors/protocol-error.js'
import type { SignedManifest } from './envelope.js'
import { generateSigningKey, type SigningKey } from './keys.js'
import type { FirmwareManifest } from './manifest.js'
import { manifestSigningInput, signManifest } from './sign-manifest.js'
import { verifyManifest, type VerifyManifestPolicy } from './verify-manifest.js'

const [keyA, keyB, keyC, keyD] = [1, 2, 3, 4].map(() => generateSigningKey()) as [
  SigningKey,
  SigningKey,
  SigningKey,
  SigningKey,
]

const manifest: FirmwareManifest = {
  schemaVersion: 1,
  product: 'acme-sensor',
  version: '2.1.0-rc.1+build.7',
  securityVersion: 5,
  hardware: ['acme-sensor-rev-a', 'acme-sensor-rev-b'],
  image: { sha256: 'ab'.repeat(32), size: 1_048_576 },
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_800_000_000_000,
  notes: 'Fixes the watchdog reset.',
}
const now = 1_750_000_000_000
const device = { hardware: 'acme-sensor-rev-b', securityVersion: 5 }
const trustA: VerifyManifestPolicy = { trustedKeys: [keyA.publicKey], now, device }

function rejects(code: ProtocolErrorCode, pattern?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    assert.ok(err.hint !== undefined && err.hint.length > 0, `${code} has a hint`)
    if (pattern !== undefined) assert.match(err.message, pattern)
    return true
  }
}

/** Signs arbitrary payload bytes the way signManifest does, to test what the verifier does with them. */
function signRaw(payload: Uint8Array, key: SigningKey): SignedManifest {
  const sig = new Uint8Array(sign(null, manifestSigningInput(payload), key.privateKey))
  return { payload, signatures: [{ keyId: key.keyId, sig }] }
}

function withByte(bytes: Uint8Array, offset: number, mask: number): Uint8Array {
  const copy = new Uint8Array(bytes)
  copy[offset] = (copy[offset] ?? 0) ^ mask
  return copy
}

describe('verifyManifest signatures', () => {
  const signed = signManifest(manifest, [keyA])

  it('returns the manifest when a trusted key signed it', () => {
    assert.deepEqual(verifyManifest(signed, trustA), manifest)
    assert.deepEqual(
      verifyManifest(signed, { trustedKeys: new Map([[keyA.keyId, keyA.publicKey]]), now }),
      manifest,
    )
  })

  it('rejects a manifest signed by a key it does not trust', () => {
    assert.throws(
      () => verifyManifest(signed, { ...trustA, trustedKeys: [keyB.publicKey] }),
      rejects('PROTOCOL_SIGNATURE_INVALID', /0 valid.*1 from untrusted/),
    )
  })

  it('rejects a signature made by a different key under a trusted key id', () => {
    const forged = signRaw(signed.payload, keyB)
    const envelope = {
      payload: signed.payload,
      signatures: [{ keyId: keyA.keyId, sig: forged.signatures[0]?.sig ?? new Uint8Array() }],
    }
    assert.throws(
      () => verifyManifest(envelope, trustA),
      rejects('PROTOCOL_SIGNATURE_INVALID', /1 not verifying/),
    )
  })

  it('rejects every single tampered payload byte before decoding it', () => {
    for (let offset = 0; offset < signed.payload.length; offset++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = { ...signed, payload: withByte(signed.payload, offset, mask) }
        assert.throws(
          () => verifyManifest(tampered, trustA),
          rejects('PROTOCOL_SIGNATURE_INVALID'),
          `byte ${String(offset)}`,
        )
      }
    }
  })

  it('rejects every single tampered signature byte', () => {
    const [first] = signed.signatures
    assert.ok(first !== undefined)
    for (let offset = 0; offset < 64; offset++) {
      const tampered = {
        ...signed,
        signatures: [{ keyId: first.keyId, sig: withByte(first.sig, offset, 0x04) }],
      }
      assert.throws(() => verifyManifest(tampered, trustA), rejects('PROTOCOL_SIGNATURE_INVALID'))
    }
  })

  it('rejects truncated and overlong signatures, saying so', () => {
    const first = signed.signatures[0]
    assert.ok(first !== undefined)
    const truncated = {
      ...signed,
      signatures: [{ keyId: first.keyId, sig: first.sig.subarray(0, 63) }],
    }
    assert.throws(
      () => verifyManifest(truncated, trustA),
      rejects('PROTOCOL_SIGNATURE_INVALID', /63 bytes \(truncated\)/),
    )
    const long = {
      ...signed,
      signatures: [{ keyId: first.keyId, sig: new Uint8Array([...first.sig, 0]) }],
    }
    assert.throws(
      () => verifyManifest(long, trustA),
      rejects('PROTOCOL_SIGNATURE_INVALID', /too long/),
    )
  })

  it('rejects an empty signature list', () => {
    assert.throws(
      () => verifyManifest({ payload: signed.payload, signatures: [] }, trustA),
      rejects('PROTOCOL_SIGNATURE_INVALID', /no signatures/),
    )
  })

  it('rejects a signature over the payload without the domain prefix', () => {
    const sig = new Uint8Array(sign(null, signed.payload, keyA.privateKey))
    assert.throws(
      () =>
        verifyManifest(
          { payload: signed.payload, signatures: [{ keyId: keyA.keyId, sig }] },
          trustA,
        ),
      rejects('PROTOCOL_SIGNATURE_INVALID'),
    )
  })

  it('counts duplicate signatures from one key once toward the threshold', () => {
    const [first] = signed.signatures
    assert.ok(first !== undefined)
    const doubled = { payload: signed.payload, signatures: [first, first, first] }
    const policy = { trustedKeys: [keyA.publicKey, keyB.publicKey], threshold: 2, now }
    assert.throws(
      () => verifyManifest(doubled, policy),
      rejects('PROTOCOL_SIGNATURE_INVALID', /1 valid signature\(s\).*2 needed/),
    )
  })

  it('needs 2 of 3 trusted keys at threshold 2', () => {
    const policy = {
      trustedKeys: [keyA.publicKey, keyB.publicKey, keyC.publicKey],
      threshold: 2,
      now,
    }
    assert.deepEqual(verifyManifest(signManifest(manifest, [keyA, keyC]), policy), manifest)
    assert.deepEqual(verifyManifest(signManifest(manifest, [keyC, keyB, keyA]), policy), manifest)
    assert.throws(
      () => verifyManifest(signManifest(manifest, [keyB]), policy),
      rejects('PROTOCOL_SIGNATURE_INVALID', /2 needed/),
    )
    assert.throws(
      () => verifyManifest(signManifest(manifest, [keyB, keyD]), policy),
      rejects('PROTOCOL_SIGNATURE_INVALID', /1 from untrusted/),
    )
  })

  it('refuses to sign with the same key twice or with a public key', () => {
    assert.throws(
      () => signManifest(manifest, [keyA, keyA]),
      rejects('PROTOCOL_KEY_INVALID', /twice/),
    )
    assert.throws(
      () => signManifest(manifest, [{ privateKey: keyA.publicKey }]),
      rejects('PROTOCOL_KEY_INVALID'),
    )
    assert.throws(() => signManifest(manifest, []), rejects('PROTOCOL_KEY_INVALID'))
  })
})
