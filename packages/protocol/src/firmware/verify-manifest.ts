import { verify, type KeyObject } from 'node:crypto'
import Type from 'typebox'
import { ProtocolError, type ProtocolErrorCode } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { maxEnvelopeBytes, maxSignatures, type SignedManifest } from './envelope.js'
import { assertEd25519Key, keyIdOf } from './keys.js'
import {
  decodeManifestPayload,
  hardwareIdPattern,
  maxEpochMs,
  type FirmwareManifest,
} from './manifest.js'
import { manifestSigningInput } from './sign-manifest.js'

/** What a device runs now: the inputs of the compatibility and anti-rollback checks. */
export interface DeviceFirmwareState {
  /** This device's hardware id; the manifest must list it. */
  readonly hardware: string
  /** The security version of the firmware it runs (or the highest it has ever accepted). */
  readonly securityVersion: number
}

/** Whom to trust and what to check when verifying a signed manifest. */
export interface VerifyManifestPolicy {
  /** Public keys whose signatures count; as a map, each key must be filed under its own key id. */
  readonly trustedKeys: readonly KeyObject[] | ReadonlyMap<string, KeyObject>
  /** How many distinct trusted keys must have signed (1–8, default 1). */
  readonly threshold?: number
  /** Set it on the device: without it, hardware and anti-rollback are not checked. */
  readonly device?: DeviceFirmwareState
  /** Current time in epoch ms for the expiry check; defaults to `Date.now()`. */
  readonly now?: number
}

/** Length of an Ed25519 signature (RFC 8032 §5.1.6). */
const ed25519SignatureBytes = 64

const checkPolicy = decoder(
  Type.Object({
    threshold: Type.Integer({ minimum: 1, maximum: maxSignatures }),
    now: Type.Integer({ minimum: 0, maximum: maxEpochMs }),
    device: Type.Optional(
      Type.Object({
        hardware: Type.String({ pattern: hardwareIdPattern, minLength: 1, maxLength: 64 }),
        securityVersion: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }),
      }),
    ),
  }),
)

function fail(
  code: ProtocolErrorCode,
  message: string,
  hint: string,
  details?: Record<string, unknown>,
): ProtocolError {
  return new ProtocolError(code, message, details === undefined ? { hint } : { hint, details })
}

/** Files each trusted key under its computed key id, refusing ids that do not match. */
function trustedKeyMap(keys: VerifyManifestPolicy['trustedKeys']): Map<string, KeyObject> {
  const entries: readonly (readonly [string | undefined, KeyObject])[] = Array.isArray(keys)
    ? keys.map((key: KeyObject) => [undefined, key] as const)
    : [...(keys as ReadonlyMap<string, KeyObject>)]
  const trusted = new Map<string, KeyObject>()
  for (const [claimedId, key] of entries) {
    assertEd25519Key(key, 'public', `trusted key ${claimedId ?? String(trusted.size)}`)
    const keyId = keyIdOf(key)
    if (claimedId !== undefined && claimedId !== keyId) {
      throw fail(
        'PROTOCOL_KEY_INVALID',
        `trusted key filed under ${claimedId} has key id ${keyId}`,
        'File each key under keyIdOf(key).',
      )
    }
    trusted.set(keyId, key)
  }
  return trusted
}

function resolvePolicy(policy: VerifyManifestPolicy): {
  trusted: Map<string, KeyObject>
  threshold: number
  now: number
} {
  const threshold = policy.threshold ?? 1
  const now = policy.now ?? Date.now()
  try {
    checkPolicy(
      policy.device === undefined ? { threshold, now } : { threshold, now, device: policy.device },
      'verify policy',
    )
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    throw new ProtocolError(err.code, err.message, {
      hint: 'Fix the verifier configuration.',
      details: err.details,
      cause: err,
    })
  }
  const trusted = trustedKeyMap(policy.trustedKeys)
  if (trusted.size < threshold) {
    throw fail(
      'PROTOCOL_KEY_INVALID',
      `threshold ${String(threshold)} is more than the ${String(trusted.size)} distinct trusted keys; no manifest could verify`,
      'Trust at least as many distinct keys as the threshold.',
    )
  }
  return { trusted, threshold, now }
}

/** Checks the envelope's own shape: a bounded payload and 1–8 signatures of exactly 64 bytes. */
function checkEnvelope(envelope: SignedManifest): void {
  const { payload, signatures } = envelope
  if (!(payload instanceof Uint8Array)) {
    throw fail(
      'PROTOCOL_MANIFEST_INVALID',
      'manifest payload is not bytes',
      'Decode envelopes with decodeSignedManifestJson/Cbor().',
    )
  }
  if (payload.length > maxEnvelopeBytes) {
    throw fail(
      'PROTOCOL_TOO_LARGE',
      `manifest payload is ${String(payload.length)} bytes; the limit is ${String(maxEnvelopeBytes)}`,
      'Check that the right file was sent.',
    )
  }
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw fail(
      'PROTOCOL_SIGNATURE_INVALID',
      'manifest carries no signatures',
      'Sign the manifest with signManifest() before publishing it.',
    )
  }
  if (signatures.length > maxSignatures) {
    throw fail(
      'PROTOCOL_MANIFEST_INVALID',
      `manifest carries ${String(signatures.length)} signatures; at most ${String(maxSignatures)}`,
      'Send at most eight signatures.',
    )
  }
  signatures.forEach(({ sig }, i) => {
    const length = sig instanceof Uint8Array ? sig.length : -1
    if (length === ed25519SignatureBytes) return
    const what =
      length < 0
        ? 'is not bytes'
        : `is ${String(length)} bytes (${length < ed25519SignatureBytes ? 'truncated' : 'too long'})`
    throw fail(
      'PROTOCOL_SIGNATURE_INVALID',
      `signature ${String(i)} ${what}; an Ed25519 signature is exactly 64 bytes`,
      'Send the signature exactly as signManifest() produced it; it was cut or altered on the way.',
      { index: i, length },
    )
  })
}

/** crypto.verify throws on some malformed inputs; for us any such input simply does not verify. */
function verifies(data: Uint8Array, key: KeyObject, sig: Uint8Array): boolean {
  try {
    return verify(null, data, key, sig)
  } catch {
    return false
  }
}

/** Counts distinct trusted keys with a valid signature; a key signing twice counts once. */
function checkSignatures(
  envelope: SignedManifest,
  trusted: Map<string, KeyObject>,
  threshold: number,
): void {
  const data = manifestSigningInput(envelope.payload)
  const verified = new Set<string>()
  let untrusted = 0
  let invalid = 0
  for (const { keyId, sig } of envelope.signatures) {
    const key = trusted.get(keyId)
    if (key === undefined) untrusted++
    else if (!verified.has(keyId)) {
      if (verifies(data, key, sig)) verified.add(keyId)
      else invalid++
    }
  }
  if (verified.size >= threshold) return
  const total = envelope.signatures.length
  throw fail(
    'PROTOCOL_SIGNATURE_INVALID',
    `manifest has ${String(verified.size)} valid signature(s) from distinct trusted keys; ${String(threshold)} needed ` +
      `(${String(total)} signature(s): ${String(untrusted)} from untrusted keys, ${String(invalid)} not verifying)`,
    invalid > 0
      ? 'Do not install it: the manifest or a signature was altered, or signed by a different key with the same id.'
      : 'Sign the manifest with keys this device trusts, or add the signer key id to its trusted keys.',
    {
      verified: verified.size,
      threshold,
      signatures: total,
      untrusted,
      invalid,
      keyIds: envelope.signatures.map((s) => s.keyId),
    },
  )
}

function checkManifestAgainst(
  manifest: FirmwareManifest,
  now: number,
  device: DeviceFirmwareState | undefined,
): void {
  const name = `${manifest.product} ${manifest.version}`
  if (manifest.expiresAt !== undefined && manifest.expiresAt < now) {
    throw fail(
      'PROTOCOL_MANIFEST_INVALID',
      `manifest for ${name} expired at ${new Date(manifest.expiresAt).toISOString()} (now ${new Date(now).toISOString()})`,
      'Ask the publisher for a freshly signed manifest; if the device clock is wrong, fix its time first.',
      { expiresAt: manifest.expiresAt, now },
    )
  }
  if (device === undefined) return
  if (!manifest.hardware.includes(device.hardware)) {
    const listed =
      manifest.hardware.slice(0, 5).join(', ') + (manifest.hardware.length > 5 ? ', …' : '')
    throw fail(
      'PROTOCOL_INCOMPATIBLE',
      `manifest for ${name} supports hardware ${listed}; this device is ${device.hardware}`,
      'Publish a build for this hardware, or target the campaign at compatible devices only.',
      { hardware: device.hardware, supported: manifest.hardware },
    )
  }
  // Equal is allowed on purpose: reinstalling, or a functional downgrade that keeps the security
  // level, is safe; only a lower security version reopens fixed vulnerabilities.
  if (manifest.securityVersion < device.securityVersion) {
    throw fail(
      'PROTOCOL_ROLLBACK',
      `manifest for ${name} has security version ${String(manifest.securityVersion)}; the device runs ${String(device.securityVersion)} and never goes lower`,
      `Publish a build with securityVersion ${String(device.securityVersion)} or higher; downgrades below the running security level are refused by design.`,
      { securityVersion: manifest.securityVersion, deviceSecurityVersion: device.securityVersion },
    )
  }
}

/**
 * Verifies a signed manifest and returns the manifest it carries. Order matters and is fixed:
 * 1. the policy is checked; each signature must be exactly 64 bytes;
 * 2. signatures are counted per distinct trusted key id (a key signing twice counts once) and
 *    must reach `threshold` (`PROTOCOL_SIGNATURE_INVALID`); untrusted key ids are ignored;
 * 3. only then is the payload decoded: strict canonical dCBOR and the schema
 *    (`PROTOCOL_MANIFEST_INVALID`), so no unauthenticated byte reaches the parser's logic;
 * 4. expiry: `expiresAt` before `now` is `PROTOCOL_MANIFEST_INVALID` ("expired");
 * 5. with `device`: its hardware must be listed (`PROTOCOL_INCOMPATIBLE`), and a security version
 *    below the device's is `PROTOCOL_ROLLBACK`. An equal one is accepted: reinstalling, or a
 *    functional downgrade at the same security level, is allowed.
 * After installing, the device stores the new security version so later checks ratchet forward.
 *
 * @example
 * const manifest = verifyManifest(decodeSignedManifestCbor(message), {
 *   trustedKeys: [importPublicKey(releaseKeyPem)],
 *   device: { hardware: 'acme-sensor-rev-b', securityVersion: 3 },
 * })
 * await verifyImage(manifest, fs.createReadStream(downloadPath))
 */
export function verifyManifest(
  envelope: SignedManifest,
  policy: VerifyManifestPolicy,
): FirmwareManifest {
  const { trusted, threshold, now } = resolvePolicy(policy)
  checkEnvelope(envelope)
  checkSignatures(envelope, trusted, threshold)
  const manifest = decodeManifestPayload(envelope.payload)
  checkManifestAgainst(manifest, now, policy.device)
  return manifest
}
