import { sign, type KeyObject } from 'node:crypto'
import { ProtocolError } from '../errors/protocol-error.js'
import { maxSignatures, type ManifestSignature, type SignedManifest } from './envelope.js'
import { assertEd25519Key, keyIdOf } from './keys.js'
import { encodeManifestPayload, type FirmwareManifest } from './manifest.js'

/**
 * Domain separation: signatures cover this ASCII prefix (with its NUL) and then the payload, so
 * a signature over a manifest can never be replayed as a signature over anything else a Strata
 * key might sign, and vice versa. A new manifest format gets a new prefix.
 */
export const manifestSignatureContext = 'strata-firmware-manifest-v1\0'

const contextBytes = new TextEncoder().encode(manifestSignatureContext)

/** The exact bytes an Ed25519 signature covers: the context prefix, then the payload. */
export function manifestSigningInput(payload: Uint8Array): Uint8Array {
  const data = new Uint8Array(contextBytes.length + payload.length)
  data.set(contextBytes, 0)
  data.set(payload, contextBytes.length)
  return data
}

/**
 * Validates a manifest, encodes it as dCBOR and signs those bytes with each key (Ed25519,
 * pure mode, no prehash). Throws `PROTOCOL_MANIFEST_INVALID` for an invalid manifest and
 * `PROTOCOL_KEY_INVALID` for a non-Ed25519 or public key, the same key twice, or no key or more
 * than eight.
 *
 * @example
 * const release = generateSigningKey()
 * const signed = signManifest(
 *   { schemaVersion: 1, product: 'acme-sensor', version: '2.1.0', securityVersion: 3,
 *     hardware: ['acme-sensor-rev-b'], image: { sha256, size }, issuedAt: Date.now() },
 *   [release],
 * )
 */
export function signManifest(
  manifest: FirmwareManifest,
  keys: readonly { readonly privateKey: KeyObject }[],
): SignedManifest {
  if (keys.length === 0 || keys.length > maxSignatures) {
    throw new ProtocolError(
      'PROTOCOL_KEY_INVALID',
      `a manifest takes 1 to ${String(maxSignatures)} signing keys, got ${String(keys.length)}`,
      {
        hint: 'Pass the private keys of the release signers, each once.',
      },
    )
  }
  const payload = encodeManifestPayload(manifest)
  const data = manifestSigningInput(payload)
  const seen = new Set<string>()
  const signatures = keys.map(({ privateKey }, i): ManifestSignature => {
    assertEd25519Key(privateKey, 'private', `signing key ${String(i)}`)
    const keyId = keyIdOf(privateKey)
    if (seen.has(keyId)) {
      // A verifier counts each key once (TUF's threshold rule), so a repeat adds nothing.
      throw new ProtocolError(
        'PROTOCOL_KEY_INVALID',
        `signing key ${String(i)} (${keyId}) is given twice`,
        {
          hint: 'Sign with distinct keys; the same key twice counts once toward a threshold.',
        },
      )
    }
    seen.add(keyId)
    return { keyId, sig: new Uint8Array(sign(null, data, privateKey)) }
  })
  return { payload, signatures }
}
