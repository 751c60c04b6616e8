import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
  type webcrypto,
} from 'node:crypto'
import { nodeCrypto, PemConverter, X509Crl, type X509Certificate } from './x509.js'

/** The one signature algorithm the CA signs with: ECDSA over P-256 with SHA-256. */
export const caSigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const
const caKeyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const

const minuteMs = 60_000
const dayMs = 86_400_000
/** notBefore is set this far in the past so a device whose clock runs slow still accepts it. */
export const clockSkewMs = 5 * minuteMs
export { dayMs }

/**
 * A random positive 16-byte serial number in lowercase hex. The top bit is cleared (DER INTEGERs
 * are signed) and the next one set, so the encoding is always exactly 16 bytes: 126 random bits,
 * above the 64 the CA/Browser baseline asks for.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40
  return bytes.toString('hex')
}

/** SHA-256 of the DER bytes, lowercase hex without separators. */
export function sha256Hex(der: ArrayBuffer | Uint8Array): string {
  return createHash('sha256')
    .update(der instanceof Uint8Array ? der : new Uint8Array(der))
    .digest('hex')
}

/** X.509 times hold whole seconds: round down so what we return equals what the cert says. */
export function toWholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000)
}

/** `ms` plus `years` calendar years, in UTC. */
export function addYears(ms: number, years: number): number {
  const d = new Date(ms)
  d.setUTCFullYear(d.getUTCFullYear() + years)
  return d.getTime()
}

/** A fresh ECDSA P-256 key pair as node KeyObjects. */
export function generateP256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
}

/** The PKCS#8 PEM of a private key, encrypted with AES-256-CBC when a passphrase is given. */
export function exportPrivateKeyPem(key: KeyObject, passphrase: string | undefined): string {
  return passphrase === undefined
    ? (key.export({ type: 'pkcs8', format: 'pem' }) as string)
    : (key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string)
}

/** A WebCrypto signing key for a P-256 private KeyObject (node 20 has no KeyObject.toCryptoKey). */
export async function toSigningKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' })
  return nodeCrypto.subtle.importKey('pkcs8', der, caKeyAlgorithm, false, ['sign'])
}

/** A WebCrypto verification key for a P-256 public KeyObject. */
export async function toVerifyKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: 'spki', format: 'der' })
  return nodeCrypto.subtle.importKey('spki', der, caKeyAlgorithm, true, ['verify'])
}

/** The SubjectPublicKeyInfo DER of a private or public key. */
export function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({
    type: 'spki',
    format: 'der',
  })
}

/** True when `key` (private) is the key certified by `cert`. */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  return spkiOf(key).equals(new Uint8Array(cert.publicKey.rawData))
}

/**
 * PEM of a certificate or CRL, ending in one newline. CRLs get the `X509 CRL` label OpenSSL (and
 * so node's `crl:` option) requires; @peculiar/x509 writes `CRL`, which OpenSSL refuses.
 */
export function toPem(item: X509Certificate | X509Crl): string {
  const pem =
    item instanceof X509Crl ? PemConverter.encode(item.rawData, 'X509 CRL') : item.toString('pem')
  return `${pem.trimEnd()}\n`
}

/** The SHA-256 fingerprint of a certificate, lowercase hex. */
export function fingerprintOf(cert: X509Certificate): string {
  return sha256Hex(cert.rawData)
}
