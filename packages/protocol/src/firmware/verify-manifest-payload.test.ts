import assert from 'node:assert/strict'
import { sign } from 'node:crypto'
import { describe, it } from 'node:test'
import { encode } from 'cbor2'
import { ProtocolError, type ProtocolErrorCode } from '../errors/protocol-error.js'
import type { SignedManifest } from './envelope.js'
import { generateSigningKey, type SigningKey } from './keys.js'
import type { FirmwareManifest } from './manifest.js'
import { manifestSigningInput, signManifest } from './sign-manifest.js'
import { verifyManifest, type VerifyManifestPolicy } from './verify-manifest.js'

const keyA = generateSigningKey()
const keyB = generateSigningKey()

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

describe('verifyManifest payload', () => {
  const canonical = signManifest(manifest, [keyA]).payload

  it('rejects a validly signed payload that is not canonical dCBOR', () => {
    const reversed = Object.fromEntries(Object.entries(manifest).reverse())
    const variants: Record<string, Uint8Array> = {
      'unsorted keys': new Uint8Array(encode(reversed)),
      'trailing byte': new Uint8Array([...canonical, 0x00]),
      'indefinite-length map': new Uint8Array([0xbf, ...canonical.subarray(1), 0xff]),
      // The key "securityVersion" is followed by 0x05; spell the 5 in two bytes, 0x18 0x05.
      'long integer': replaceOnce(
        canonical,
        [...Buffer.from('securityVersion'), 0x05],
        [...Buffer.from('securityVersion'), 0x18, 0x05],
      ),
      'float for an integer': replaceOnce(
        canonical,
        [...Buffer.from('securityVersion'), 0x05],
        [...Buffer.from('securityVersion'), 0xf9, 0x45, 0x00],
      ),
      'not CBOR at all': new TextEncoder().encode(JSON.stringify(manifest)),
    }
    for (const [name, payload] of Object.entries(variants)) {
      assert.throws(
        () => verifyManifest(signRaw(payload, keyA), trustA),
        rejects('PROTOCOL_MANIFEST_INVALID'),
        name,
      )
    }
  })

  it('rejects a validly signed payload that breaks the schema', () => {
    const extra = new Uint8Array(encode({ ...manifest, extra: true }, { dcbor: true }))
    assert.throws(
      () => verifyManifest(signRaw(extra, keyA), trustA),
      rejects('PROTOCOL_MANIFEST_INVALID', /unknown properties "extra"/),
    )
    const v2 = new Uint8Array(encode({ ...manifest, schemaVersion: 2 }, { dcbor: true }))
    assert.throws(
      () => verifyManifest(signRaw(v2, keyA), trustA),
      rejects('PROTOCOL_MANIFEST_INVALID', /schemaVersion/),
    )
  })
})

/** Replaces the first occurrence of `from` with `to` (test helper for hand-made encodings). */
function replaceOnce(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(from))
  assert.ok(at >= 0, 'pattern present')
  return new Uint8Array([...bytes.subarray(0, at), ...to, ...bytes.subarray(at + from.length)])
}

describe('verifyManifest device checks', () => {
  const at = (securityVersion: number): SignedManifest =>
    signManifest({ ...manifest, securityVersion }, [keyA])

  it('refuses a lower security version (anti-rollback)', () => {
    assert.throws(
      () => verifyManifest(at(4), trustA),
      rejects('PROTOCOL_ROLLBACK', /security version 4; the device runs 5/),
    )
  })

  it('allows an equal or higher security version', () => {
    assert.equal(verifyManifest(at(5), trustA).securityVersion, 5)
    assert.equal(verifyManifest(at(6), trustA).securityVersion, 6)
  })

  it('refuses hardware the manifest does not list', () => {
    const policy = { ...trustA, device: { hardware: 'acme-sensor-rev-c', securityVersion: 0 } }
    assert.throws(() => verifyManifest(at(5), policy), rejects('PROTOCOL_INCOMPATIBLE', /rev-c/))
  })

  it('refuses an expired manifest and accepts one expiring right now', () => {
    const signed = at(5)
    assert.throws(
      () => verifyManifest(signed, { ...trustA, now: 1_800_000_000_001 }),
      rejects('PROTOCOL_MANIFEST_INVALID', /expired/),
    )
    assert.equal(
      verifyManifest(signed, { ...trustA, now: 1_800_000_000_000 }).version,
      manifest.version,
    )
  })

  it('checks signatures before rollback, so an unsigned downgrade says "signature"', () => {
    const envelope = at(1)
    assert.throws(
      () => verifyManifest(envelope, { ...trustA, trustedKeys: [keyB.publicKey] }),
      rejects('PROTOCOL_SIGNATURE_INVALID'),
    )
  })

  it('refuses a policy that could let anything through or nothing', () => {
    const signed = at(5)
    assert.throws(
      () =>
        verifyManifest(signed, {
          ...trustA,
          device: { hardware: 'acme-sensor-rev-b', securityVersion: Number.NaN },
        }),
      rejects('PROTOCOL_INVALID'),
    )
    assert.throws(
      () => verifyManifest(signed, { ...trustA, now: Number.NaN }),
      rejects('PROTOCOL_INVALID'),
    )
    assert.throws(
      () => verifyManifest(signed, { ...trustA, threshold: 0 }),
      rejects('PROTOCOL_INVALID'),
    )
    assert.throws(
      () => verifyManifest(signed, { ...trustA, threshold: 2 }),
      rejects('PROTOCOL_KEY_INVALID', /threshold 2/),
    )
    assert.throws(
      () => verifyManifest(signed, { ...trustA, trustedKeys: [keyA.privateKey] }),
      rejects('PROTOCOL_KEY_INVALID'),
    )
    assert.throws(
      () =>
        verifyManifest(signed, { ...trustA, trustedKeys: new Map([[keyB.keyId, keyA.publicKey]]) }),
      rejects('PROTOCOL_KEY_INVALID'),
    )
  })
})
