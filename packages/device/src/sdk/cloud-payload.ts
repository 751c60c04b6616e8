import { decodeDocument, documentLimits, isStrataError } from '@strata/protocol'
import { DeviceError } from '../errors.js'

const encoder = new TextEncoder()

/** Encodes a JSON body, refusing what the cloud would refuse for size (64 KiB). */
export function encodeJson(body: unknown, what: string): Uint8Array {
  const payload = encoder.encode(JSON.stringify(body))
  if (payload.length > documentLimits.maxBytes) {
    throw new DeviceError(
      'DEVICE_MESSAGE_INVALID',
      `${what}: the payload is ${String(payload.length)} bytes, over the ${String(documentLimits.maxBytes)}-byte limit`,
      { hint: 'Send less in one message.' },
    )
  }
  return payload
}

/**
 * Decodes what the cloud sent: JSON, or CBOR when the device's profile asks for it (a CBOR map
 * starts with a byte in 0xa0…0xbf, which no JSON document does). Throws `DEVICE_CLOUD_MESSAGE_INVALID`.
 */
export function decodeCloudPayload(payload: Uint8Array, topic: string): unknown {
  const first = payload[0] ?? 0
  try {
    return decodeDocument(payload, first >= 0xa0 && first <= 0xbf ? 'cbor' : 'json')
  } catch (err) {
    throw cloudMessageInvalid(topic, isStrataError(err) ? err.message : String(err), err)
  }
}

export function cloudMessageInvalid(topic: string, why: string, cause?: unknown): DeviceError {
  return new DeviceError('DEVICE_CLOUD_MESSAGE_INVALID', `${topic}: ${why}`, {
    hint: 'The message was skipped. The cloud and this SDK may speak different protocol versions; update the SDK.',
    ...(cause === undefined ? {} : { cause }),
  })
}
