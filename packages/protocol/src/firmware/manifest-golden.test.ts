import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  decodeSignedManifestCbor,
  decodeSignedManifestJson,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
} from './envelope.js'
import { keyIdOf } from './keys.js'
import type { FirmwareManifest } from './manifest.js'
import { signManifest } from './sign-manifest.js'
import { verifyManifest } from './verify-manifest.js'

/**
 * Golden vectors for the v1 wire format. Ed25519 signatures are deterministic (RFC 8032), so a
 * fixed key and manifest give fixed bytes; device implementations in other languages can test
 * against them. If this test fails, the format changed: that needs a new context string.
 */
const seed = Buffer.alloc(32, 7)
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7).
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')
const privateKey = createPrivateKey({
  key: Buffer.concat([pkcs8Prefix, seed]),
  format: 'der',
  type: 'pkcs8',
})
const keyId = 'fe812c12f3ab4ce6ac5db69ac352f906cb1b11ef43fb33e252ef7ff552263889'
const manifest: FirmwareManifest = {
  schemaVersion: 1,
  product: 'acme-sensor',
  version: '1.2.3',
  securityVersion: 7,
  hardware: ['rev-b'],
  image: { sha256: 'ab'.repeat(32), size: 65536 },
  issuedAt: 1_700_000_000_000,
}
// Keys in dCBOR order: shorter encoded key first, then bytewise.
const payloadHex = [
  'a7', // map of 7
  '65696d616765', // "image"
  'a2', // map of 2
  '6473697a65' + '1a00010000', // "size": 65536
  '66736861323536' + '7840' + '6162'.repeat(32), // "sha256": 64-character text
  '6770726f64756374' + '6b61636d652d73656e736f72', // "product": "acme-sensor"
  '6776657273696f6e' + '65312e322e33', // "version": "1.2.3"
  '686861726477617265' + '81' + '657265762d62', // "hardware": ["rev-b"]
  '686973737565644174' + '1b0000018bcfe56800', // "issuedAt": 1700000000000
  '6d736368656d6156657273696f6e' + '01', // "schemaVersion": 1
  '6f736563757269747956657273696f6e' + '07', // "securityVersion": 7
].join('')
const sigHex =
  '74beb43d00fffc29211f20effa4a6128e6846e65ae11015839326def7fe47ba0' +
  '80614b2d47cc374e694a36b6dd66674491f53858851a65a2693bbccfcad8af01'
const cborHex = [
  'a2', // map of 2
  '677061796c6f6164' + '58bf' + payloadHex, // "payload": 191-byte string
  '6a7369676e617475726573' + '81' + 'a2', // "signatures": [ map of 2
  '63736967' + '5840' + sigHex, // "sig": 64-byte string
  '656b65794964' + '7840' + Buffer.from(keyId).toString('hex'), // "keyId": 64-character text
].join('')
const json =
  `{"payload":"${Buffer.from(payloadHex, 'hex').toString('base64')}",` +
  `"signatures":[{"keyId":"${keyId}","sig":"${Buffer.from(sigHex, 'hex').toString('base64')}"}]}`

describe('firmware manifest golden vectors', () => {
  it('signs the reference manifest to the reference bytes', () => {
    assert.equal(keyIdOf(privateKey), keyId)
    const signed = signManifest(manifest, [{ privateKey }])
    assert.equal(Buffer.from(signed.payload).toString('hex'), payloadHex)
    assert.equal(Buffer.from(signed.signatures[0]?.sig ?? []).toString('hex'), sigHex)
    assert.equal(Buffer.from(encodeSignedManifestCbor(signed)).toString('hex'), cborHex)
    assert.equal(encodeSignedManifestJson(signed), json)
  })

  it('verifies the reference envelopes in both wire forms', () => {
    const policy = { trustedKeys: [createPublicKey(privateKey)], now: 0 }
    assert.deepEqual(
      verifyManifest(decodeSignedManifestCbor(Buffer.from(cborHex, 'hex')), policy),
      manifest,
    )
    assert.deepEqual(verifyManifest(decodeSignedManifestJson(json), policy), manifest)
  })
})
