import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  type PrivateKeyInput,
} from 'node:crypto'
import { ProtocolError } from '../errors/protocol-error.js'

/** An Ed25519 key pair for signing firmware manifests, with the id devices know it by. */
export interface SigningKey {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** SHA-256 of the raw 32-byte public key, as 64 lowercase hex digits. */
  readonly keyId: string
}

/** Length of a raw Ed25519 public key (RFC 8032 §5.1.5). */
export const ed25519PublicKeyBytes = 32

/** A key id: SHA-256 of the raw public key, 64 lowercase hex digits. */
export const keyIdPattern = '^[0-9a-f]{64}$'

const privatePemLabel = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/

function keyError(message: string, hint: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'PROTOCOL_KEY_INVALID',
    message,
    cause === undefined ? { hint } : { hint, cause },
  )
}

/**
 * Throws `PROTOCOL_KEY_INVALID` unless `key` is an Ed25519 KeyObject of the given type. Messages
 * name the key's role and type, never its material.
 */
export function assertEd25519Key(
  key: unknown,
  type: 'public' | 'private',
  what: string,
): asserts key is KeyObject {
  if (!(key instanceof KeyObject)) {
    throw keyError(
      `${what} is not a KeyObject`,
      'Load keys with importPublicKey() or importPrivateKey().',
    )
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      `${what} is a ${key.asymmetricKeyType ?? key.type} key; firmware manifests use Ed25519 only`,
      'Generate an Ed25519 key pair (generateSigningKey() or `openssl genpkey -algorithm ed25519`).',
    )
  }
  if (key.type !== type) {
    throw keyError(
      `${what} is a ${key.type} key; a ${type} key is needed`,
      type === 'public'
        ? 'Give devices and verifiers the public key only; keep private keys on the signing host.'
        : 'Sign with the private key; the public key can only verify.',
    )
  }
}

/**
 * Generates a fresh Ed25519 key pair for signing firmware manifests.
 *
 * @example
 * const key = generateSigningKey()
 * const signed = signManifest(manifest, [key])
 * console.log(key.keyId) // 64 hex digits to put in the device's trust list
 */
export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) }
}

/**
 * Returns the raw 32-byte Ed25519 public key (RFC 8032 encoding), the form constrained devices
 * store. A private key yields its public half.
 *
 * @example
 * exportPublicKeyRaw(generateSigningKey().publicKey).length // 32
 */
export function exportPublicKeyRaw(key: KeyObject): Uint8Array {
  const publicKey = key instanceof KeyObject && key.type === 'private' ? createPublicKey(key) : key
  assertEd25519Key(publicKey, 'public', 'key')
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url'))
  if (raw.length !== ed25519PublicKeyBytes) {
    throw keyError('key has no 32-byte Ed25519 public value', 'Regenerate the key.')
  }
  return raw
}

/**
 * Returns the key id of an Ed25519 key: SHA-256 of the raw 32-byte public key, in lowercase hex.
 * A private key yields the id of its public half. Throws `PROTOCOL_KEY_INVALID` for other keys.
 *
 * @example
 * const { publicKey, keyId } = generateSigningKey()
 * keyIdOf(publicKey) === keyId // true
 */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(exportPublicKeyRaw(key)).digest('hex')
}

/**
 * Imports an Ed25519 public key from SPKI PEM text or from its raw 32 bytes. Refuses private keys,
 * so a private key is never shipped to a device by mistake, and any non-Ed25519 key, with
 * `PROTOCOL_KEY_INVALID`.
 *
 * @example
 * const key = importPublicKey(fs.readFileSync('firmware-signing.pub.pem', 'utf8'))
 * const same = importPublicKey(exportPublicKeyRaw(key))
 */
export function importPublicKey(pemOrRaw32: string | Uint8Array): KeyObject {
  let key: KeyObject
  if (typeof pemOrRaw32 === 'string') {
    if (privatePemLabel.test(pemOrRaw32)) {
      throw keyError(
        'the PEM holds a private key; a public key is needed',
        'Export the public key (`openssl pkey -pubout`) and use that.',
      )
    }
    key = parseKey(() => createPublicKey({ key: pemOrRaw32, format: 'pem' }), 'public key PEM')
  } else {
    if (pemOrRaw32.length !== ed25519PublicKeyBytes) {
      throw keyError(
        `a raw Ed25519 public key is 32 bytes, got ${String(pemOrRaw32.length)}`,
        'Pass the 32-byte public key or its SPKI PEM text.',
      )
    }
    const x = Buffer.from(pemOrRaw32).toString('base64url')
    key = parseKey(
      () => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
      'raw public key',
    )
  }
  assertEd25519Key(key, 'public', 'the imported key')
  return key
}

/**
 * Imports an Ed25519 private key from PKCS#8 PEM text, encrypted when `passphrase` is given.
 * Throws `PROTOCOL_KEY_INVALID` for unreadable, wrongly encrypted or non-Ed25519 keys.
 *
 * @example
 * const key = importPrivateKey(fs.readFileSync('firmware-signing.pem', 'utf8'), process.env.KEY_PASS)
 * signManifest(manifest, [{ privateKey: key }])
 */
export function importPrivateKey(pem: string, passphrase?: string): KeyObject {
  const input: PrivateKeyInput =
    passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase }
  const key = parseKey(() => createPrivateKey(input), 'private key PEM')
  assertEd25519Key(key, 'private', 'the imported key')
  return key
}

function parseKey(parse: () => KeyObject, what: string): KeyObject {
  try {
    return parse()
  } catch (err) {
    throw keyError(
      `the ${what} cannot be read`,
      'Pass an unmodified PEM file (or the right passphrase for an encrypted one), or 32 raw bytes.',
      err,
    )
  }
}

/**
 * Exports an Ed25519 public key as SPKI PEM text (a private key yields its public half).
 *
 * @example
 * fs.writeFileSync('firmware-signing.pub.pem', exportPublicKeyPem(generateSigningKey().publicKey))
 */
export function exportPublicKeyPem(key: KeyObject): string {
  return importPublicKey(exportPublicKeyRaw(key)).export({ type: 'spki', format: 'pem' }).toString()
}

/**
 * Exports an Ed25519 private key as PKCS#8 PEM text, encrypted with AES-256-CBC when a
 * passphrase is given. Store it encrypted or in a secret manager; never on a device.
 *
 * @example
 * fs.writeFileSync('firmware-signing.pem', exportPrivateKeyPem(key.privateKey, passphrase), { mode: 0o600 })
 */
export function exportPrivateKeyPem(key: KeyObject, passphrase?: string): string {
  assertEd25519Key(key, 'private', 'key')
  const pem =
    passphrase === undefined
      ? key.export({ type: 'pkcs8', format: 'pem' })
      : key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
  return pem.toString()
}
