import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { ProtocolError } from '../errors/protocol-error.js'
import {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  exportPublicKeyRaw,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  keyIdOf,
} from './keys.js'

function isKeyInvalid(err: unknown): boolean {
  return (
    err instanceof ProtocolError && err.code === 'PROTOCOL_KEY_INVALID' && err.hint !== undefined
  )
}

describe('firmware signing keys', () => {
  it('derives the key id as SHA-256 of the raw 32-byte public key', () => {
    const key = generateSigningKey()
    const raw = exportPublicKeyRaw(key.publicKey)
    assert.equal(raw.length, 32)
    assert.equal(key.keyId, createHash('sha256').update(raw).digest('hex'))
    assert.match(key.keyId, /^[0-9a-f]{64}$/)
    assert.equal(keyIdOf(key.privateKey), key.keyId, 'a private key yields its public key id')
  })

  it('round-trips public keys through PEM and raw bytes', () => {
    const key = generateSigningKey()
    const pem = exportPublicKeyPem(key.publicKey)
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/)
    assert.equal(keyIdOf(importPublicKey(pem)), key.keyId)
    assert.equal(keyIdOf(importPublicKey(exportPublicKeyRaw(key.publicKey))), key.keyId)
  })

  it('round-trips private keys through PEM, encrypted or not', () => {
    const key = generateSigningKey()
    assert.equal(keyIdOf(importPrivateKey(exportPrivateKeyPem(key.privateKey))), key.keyId)
    const encrypted = exportPrivateKeyPem(key.privateKey, 'correct horse')
    assert.match(encrypted, /ENCRYPTED PRIVATE KEY/)
    assert.equal(keyIdOf(importPrivateKey(encrypted, 'correct horse')), key.keyId)
    assert.throws(() => importPrivateKey(encrypted, 'wrong'), isKeyInvalid)
    assert.throws(() => importPrivateKey(encrypted), isKeyInvalid)
  })

  it('refuses a private key where a public key is expected', () => {
    const key = generateSigningKey()
    assert.throws(() => importPublicKey(exportPrivateKeyPem(key.privateKey)), isKeyInvalid)
  })

  it('refuses non-Ed25519 keys with PROTOCOL_KEY_INVALID', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const x25519 = generateKeyPairSync('x25519')
    assert.throws(
      () => importPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      isKeyInvalid,
    )
    assert.throws(
      () => importPublicKey(x25519.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      isKeyInvalid,
    )
    assert.throws(
      () => importPrivateKey(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      isKeyInvalid,
    )
    assert.throws(() => keyIdOf(ec.publicKey), isKeyInvalid)
    assert.throws(() => exportPrivateKeyPem(generateSigningKey().publicKey), isKeyInvalid)
  })

  it('refuses garbage key material with PROTOCOL_KEY_INVALID', () => {
    assert.throws(() => importPublicKey('not a key'), isKeyInvalid)
    assert.throws(() => importPublicKey(new Uint8Array(31)), isKeyInvalid)
    assert.throws(() => importPublicKey(new Uint8Array(33)), isKeyInvalid)
    assert.throws(
      () => importPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
      isKeyInvalid,
    )
  })
})
