import { decode, encode, type DecodeOptions } from 'cbor2'
import Type, { type Static } from 'typebox'
import { ProtocolError } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { SemVer } from './semver.js'

/** A product name: 1–64 of `[A-Za-z0-9._-]`, not starting with `.` or `_` (like `Name`). */
export const productPattern = '^[A-Za-z0-9-][A-Za-z0-9._-]{0,63}$'
/** A hardware id: 1–64 of `[A-Za-z0-9._:-]`, starting with a letter or digit (like `DeviceId`). */
export const hardwareIdPattern = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'

/** Largest epoch-ms value a JavaScript `Date` can hold (ECMA-262 §21.4.1.1). */
export const maxEpochMs = 8_640_000_000_000_000

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64 })
const EpochMs = Type.Integer({ minimum: 0, maximum: maxEpochMs })
/** 1 byte to 1 TiB; a JavaScript number holds it exactly. */
const ImageSize = Type.Integer({ minimum: 1, maximum: 2 ** 40 })
const closed = { additionalProperties: false } as const

/** A firmware image or delta: its SHA-256 (lowercase hex) and its exact size in bytes. */
export const FirmwareImage = Type.Object({ sha256: Sha256Hex, size: ImageSize }, closed)
export type FirmwareImage = Static<typeof FirmwareImage>

/** A binary delta that turns the image of `baseVersion` (hashing to `baseSha256`) into this one. */
export const FirmwareDelta = Type.Object(
  { baseVersion: SemVer, baseSha256: Sha256Hex, sha256: Sha256Hex, size: ImageSize },
  closed,
)
export type FirmwareDelta = Static<typeof FirmwareDelta>

/**
 * Version 1 of the firmware manifest: what a release is, which hardware it runs on, and the hash
 * and size of its image. `securityVersion` only ever grows: a device refuses a manifest whose
 * security version is lower than the one it runs (anti-rollback, like the SUIT sequence number
 * of RFC 9124 and Uptane's release counter).
 */
export const FirmwareManifest = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    product: Type.String({ pattern: productPattern, minLength: 1, maxLength: 64 }),
    version: SemVer,
    securityVersion: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }),
    hardware: Type.Array(Type.String({ pattern: hardwareIdPattern, minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: 64,
      uniqueItems: true,
    }),
    image: FirmwareImage,
    delta: Type.Optional(FirmwareDelta),
    issuedAt: EpochMs,
    expiresAt: Type.Optional(EpochMs),
    notes: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  closed,
)
export type FirmwareManifest = Static<typeof FirmwareManifest>

const checkSchema = decoder(FirmwareManifest)

/** A lone UTF-16 surrogate: CBOR text must be UTF-8, which cannot encode one. */
const loneSurrogate = /\p{Surrogate}/u

function invalid(message: string, hint: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'PROTOCOL_MANIFEST_INVALID',
    message,
    cause === undefined ? { hint } : { hint, cause },
  )
}

/**
 * Checks that `value` is a valid firmware manifest (schema and cross-field rules) and returns it
 * typed; throws `PROTOCOL_MANIFEST_INVALID` naming the bad fields otherwise. `signManifest` and
 * `verifyManifest` call it; call it yourself to check a draft from an HTTP body or a CLI flag.
 *
 * @example
 * const manifest = validateManifest(JSON.parse(body))
 */
export function validateManifest(value: unknown): FirmwareManifest {
  let manifest: FirmwareManifest
  try {
    manifest = checkSchema(value, 'manifest')
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    throw new ProtocolError('PROTOCOL_MANIFEST_INVALID', err.message, {
      hint: 'Fix the listed manifest fields; the manifest schema is FirmwareManifest in @strata/protocol.',
      details: err.details,
      cause: err,
    })
  }
  if (manifest.expiresAt !== undefined && manifest.expiresAt <= manifest.issuedAt) {
    throw invalid(
      `manifest expiresAt ${String(manifest.expiresAt)} is not after issuedAt ${String(manifest.issuedAt)}`,
      'Set expiresAt later than issuedAt, or leave it out for a manifest that never expires.',
    )
  }
  if (manifest.notes !== undefined && loneSurrogate.test(manifest.notes)) {
    throw invalid(
      'manifest notes hold a lone UTF-16 surrogate',
      'Use well-formed Unicode text in notes.',
    )
  }
  return manifest
}

/**
 * dCBOR (draft-mcnally-deterministic-cbor) in both directions: one manifest has exactly one
 * encoding, so the bytes a signer signed are the bytes every verifier decodes. Global tag
 * decoders are off: a tag becomes an opaque Tag object that the schema then refuses.
 */
const encodeOptions = { dcbor: true } as const
const decodeOptions: DecodeOptions = { dcbor: true, ignoreGlobalTags: true, maxDepth: 3 }

/**
 * Validates a manifest and encodes it as dCBOR: the payload that gets signed. Text is NFC
 * normalised on the way (dCBOR requires it), so `notes` come back NFC from `verifyManifest`.
 */
export function encodeManifestPayload(manifest: FirmwareManifest): Uint8Array {
  // Normalise before validating: NFC can lengthen a string, and the limit applies to what is signed.
  const notes = typeof manifest.notes === 'string' ? manifest.notes.normalize('NFC') : undefined
  const valid = validateManifest(notes === undefined ? manifest : { ...manifest, notes })
  let bytes: Uint8Array
  try {
    bytes = encode(valid, encodeOptions)
  } catch (err) {
    throw invalid(
      'manifest cannot be encoded as dCBOR',
      'Leave optional fields out instead of setting them to undefined.',
      err,
    )
  }
  return new Uint8Array(bytes)
}

/**
 * Decodes and validates a manifest payload. Refuses anything but the one canonical dCBOR
 * encoding, checked twice: by the decoder's dCBOR rules, then by re-encoding and comparing bytes.
 * Call only after the signatures over these bytes have verified.
 */
export function decodeManifestPayload(payload: Uint8Array): FirmwareManifest {
  let value: unknown
  try {
    value = decode(payload, decodeOptions)
  } catch (err) {
    throw invalid(
      `manifest payload is not canonical dCBOR: ${err instanceof Error ? err.message : String(err)}`,
      'Sign manifests with signManifest(), which encodes them canonically.',
      err,
    )
  }
  const manifest = validateManifest(value)
  if (!sameBytes(encode(manifest, encodeOptions), payload)) {
    throw invalid(
      'manifest payload is not in canonical dCBOR form',
      'Sign manifests with signManifest(), which encodes them canonically.',
    )
  }
  return manifest
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
