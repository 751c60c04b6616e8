import { decode, encode, type DecodeOptions } from 'cbor2'
import Type, { type Static } from 'typebox'
import { ProtocolError } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { keyIdPattern } from './keys.js'

/**
 * A signed firmware manifest: the exact dCBOR bytes of a `FirmwareManifest` and 1–8 Ed25519
 * signatures over `"strata-firmware-manifest-v1\0" || payload`. The payload travels as opaque
 * bytes, never re-serialised, because a signature covers bytes, not a parsed value (the lesson
 * of TUF's canonical-JSON trouble; SUIT and COSE sign byte strings for the same reason).
 *
 * Wire forms (docs/formats/firmware-manifest.md):
 * - JSON, for HTTP and humans: `{"payload":"<base64>","signatures":[{"keyId":"<hex>","sig":"<base64>"}]}`
 *   with standard padded base64 (RFC 4648 §4), nothing else.
 * - CBOR, for devices over MQTT: `{"payload": bstr, "signatures": [{"keyId": tstr, "sig": bstr}]}`.
 *
 * The decoders check shape and limits only; `verifyManifest` judges the signatures (including
 * their length) and only then decodes the payload.
 */
export interface SignedManifest {
  readonly payload: Uint8Array
  readonly signatures: readonly ManifestSignature[]
}

/** One signature: who signed (the key id) and the 64-byte Ed25519 signature. */
export interface ManifestSignature {
  /** SHA-256 of the signer's raw 32-byte Ed25519 public key, 64 lowercase hex digits. */
  readonly keyId: string
  readonly sig: Uint8Array
}

/** Largest encoded envelope, in either wire form. */
export const maxEnvelopeBytes = 64 * 1024
/** Most signatures one envelope carries. */
export const maxSignatures = 8

const KeyId = Type.String({ pattern: keyIdPattern, minLength: 64, maxLength: 64 })
const signaturesLimits = { minItems: 1, maxItems: maxSignatures } as const
const closed = { additionalProperties: false } as const

/** The JSON wire form of a `SignedManifest` (for OpenAPI and HTTP bodies). */
export const SignedManifestJson = Type.Object(
  {
    payload: Type.String({ minLength: 1, maxLength: maxEnvelopeBytes }),
    signatures: Type.Array(
      Type.Object({ keyId: KeyId, sig: Type.String({ minLength: 1, maxLength: 1024 }) }, closed),
      signaturesLimits,
    ),
  },
  closed,
)
export type SignedManifestJson = Static<typeof SignedManifestJson>

/** The CBOR shape; byte strings are checked by hand since JSON Schema has no bytes type. */
const SignedManifestShape = Type.Object(
  {
    payload: Type.Unknown(),
    signatures: Type.Array(
      Type.Object({ keyId: KeyId, sig: Type.Unknown() }, closed),
      signaturesLimits,
    ),
  },
  closed,
)

const checkJsonShape = decoder(SignedManifestJson)
const checkShape = decoder(SignedManifestShape)

/** Envelope depth: map → signatures array → signature map. */
const maxEnvelopeDepth = 3
/** cbor2 counts one more level than there are containers. */
const cborDecodeOptions: DecodeOptions = {
  maxDepth: maxEnvelopeDepth + 1,
  rejectDuplicateKeys: true,
  ignoreGlobalTags: true,
}
const base64RegExp = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const utf8 = new TextDecoder('utf-8', { fatal: true })
const envelopeHint =
  'Send the envelope exactly as signManifest() and encodeSignedManifestJson/Cbor() produce it.'

function invalid(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'PROTOCOL_MANIFEST_INVALID',
    message,
    cause === undefined ? { hint: envelopeHint } : { hint: envelopeHint, cause },
  )
}

function tooLarge(what: string, size: string): ProtocolError {
  return new ProtocolError(
    'PROTOCOL_TOO_LARGE',
    `${what} is ${size}; the limit is ${String(maxEnvelopeBytes)} bytes`,
    {
      hint: 'A manifest envelope is a few KiB; check that the right file or message was sent.',
    },
  )
}

/** Re-raises a schema violation (`PROTOCOL_INVALID`) as an envelope error. */
function checkWith<T>(check: (value: unknown, what: string) => T, value: unknown): T {
  try {
    return check(value, 'manifest envelope')
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    throw new ProtocolError('PROTOCOL_MANIFEST_INVALID', err.message, {
      hint: envelopeHint,
      details: err.details,
      cause: err,
    })
  }
}

/** A fresh plain Uint8Array (not a Buffer, whose toJSON would leak into CBOR, nor a shared view). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/** Checks a decoded or caller-built envelope and returns a copy that owns its bytes. */
function toSignedManifest(value: unknown): SignedManifest {
  const shape = checkWith(checkShape, value)
  if (!(shape.payload instanceof Uint8Array) || shape.payload.length === 0) {
    throw invalid('manifest envelope /payload must be a non-empty byte string')
  }
  if (shape.payload.length > maxEnvelopeBytes) {
    throw tooLarge('manifest payload', `${String(shape.payload.length)} bytes`)
  }
  const signatures = shape.signatures.map(({ keyId, sig }, i) => {
    if (!(sig instanceof Uint8Array)) {
      throw invalid(`manifest envelope /signatures/${String(i)}/sig must be a byte string`)
    }
    return { keyId, sig: copyBytes(sig) }
  })
  return { payload: copyBytes(shape.payload), signatures }
}

/** Strict base64: the RFC 4648 §4 alphabet, padded, no whitespace, zero padding bits. */
function decodeBase64(text: string, path: string): Uint8Array {
  const bytes = base64RegExp.test(text) ? Buffer.from(text, 'base64') : undefined
  // Re-encoding catches non-zero padding bits ("AB==" and "AA==" would both decode to 0x00).
  if (bytes === undefined || bytes.toString('base64') !== text) {
    throw invalid(`manifest envelope ${path} is not canonical padded base64 (RFC 4648 §4)`)
  }
  return copyBytes(bytes)
}

/**
 * Depth of JSON nesting, counted outside strings, stopping as soon as it passes `max`. JSON.parse
 * itself copes with deep input; this makes deep nesting a clear PROTOCOL_TOO_LARGE, as in CBOR.
 */
function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      // A backslash escapes the next character; a quote ends the string.
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      depth++
      if (depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

function checkEncodedSize(length: number, form: string): void {
  if (length > maxEnvelopeBytes) {
    throw tooLarge(`${form} manifest envelope`, `${String(length)} bytes`)
  }
}

/**
 * Encodes a signed manifest in its JSON wire form.
 *
 * @example
 * await fetch(url, { method: 'PUT', body: encodeSignedManifestJson(signManifest(manifest, [key])) })
 */
export function encodeSignedManifestJson(envelope: SignedManifest): string {
  const { payload, signatures } = toSignedManifest(envelope)
  const wire: SignedManifestJson = {
    payload: Buffer.from(payload).toString('base64'),
    signatures: signatures.map(({ keyId, sig }) => ({
      keyId,
      sig: Buffer.from(sig).toString('base64'),
    })),
  }
  const text = JSON.stringify(wire)
  checkEncodedSize(Buffer.byteLength(text), 'JSON')
  return text
}

/**
 * Decodes the JSON wire form (text, or its UTF-8 bytes). Throws `PROTOCOL_TOO_LARGE` over 64 KiB
 * or past the envelope's nesting depth, and `PROTOCOL_MANIFEST_INVALID` for anything malformed.
 * Signatures are not checked here: pass the result to `verifyManifest`.
 *
 * @example
 * const manifest = verifyManifest(decodeSignedManifestJson(await request.text()), policy)
 */
export function decodeSignedManifestJson(input: string | Uint8Array): SignedManifest {
  // A UTF-16 unit is at least one UTF-8 byte, so the cheap length check comes first.
  if (input.length > maxEnvelopeBytes) {
    throw tooLarge('JSON manifest envelope', `over ${String(maxEnvelopeBytes)} bytes`)
  }
  let text: string
  try {
    text = typeof input === 'string' ? input : utf8.decode(input)
  } catch (err) {
    throw invalid('JSON manifest envelope is not valid UTF-8', err)
  }
  checkEncodedSize(Buffer.byteLength(text), 'JSON')
  if (jsonDepthExceeds(text, maxEnvelopeDepth)) {
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `JSON manifest envelope nests deeper than ${String(maxEnvelopeDepth)} levels`,
      {
        hint: envelopeHint,
      },
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalid(
      `JSON manifest envelope is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      err,
    )
  }
  const wire = checkWith(checkJsonShape, value)
  return {
    payload: decodeBase64(wire.payload, '/payload'),
    signatures: wire.signatures.map(({ keyId, sig }, i) => ({
      keyId,
      sig: decodeBase64(sig, `/signatures/${String(i)}/sig`),
    })),
  }
}

/**
 * Encodes a signed manifest in its CBOR wire form (deterministic: dCBOR).
 *
 * @example
 * client.publish(`strata/v1/devices/${deviceId}/firmware`, encodeSignedManifestCbor(signed))
 */
export function encodeSignedManifestCbor(envelope: SignedManifest): Uint8Array {
  const bytes = new Uint8Array(encode(toSignedManifest(envelope), { dcbor: true }))
  checkEncodedSize(bytes.length, 'CBOR')
  return bytes
}

/**
 * Decodes the CBOR wire form. Throws `PROTOCOL_TOO_LARGE` over 64 KiB or past the envelope's
 * nesting depth, and `PROTOCOL_MANIFEST_INVALID` for anything malformed (bad CBOR, duplicate
 * keys, trailing bytes, wrong types, extra fields). Pass the result to `verifyManifest`.
 *
 * @example
 * const manifest = verifyManifest(decodeSignedManifestCbor(message.payload), policy)
 */
export function decodeSignedManifestCbor(bytes: Uint8Array): SignedManifest {
  if (!(bytes instanceof Uint8Array)) throw invalid('CBOR manifest envelope must be bytes')
  checkEncodedSize(bytes.length, 'CBOR')
  let value: unknown
  try {
    value = decode(bytes, cborDecodeOptions)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (message.startsWith('Maximum depth')) {
      throw new ProtocolError(
        'PROTOCOL_TOO_LARGE',
        `CBOR manifest envelope nests deeper than ${String(maxEnvelopeDepth)} levels`,
        {
          hint: envelopeHint,
          cause: err,
        },
      )
    }
    throw invalid(`CBOR manifest envelope is malformed: ${message}`, err)
  }
  return toSignedManifest(value)
}
