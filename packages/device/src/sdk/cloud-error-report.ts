import type { CloudErrorReport } from './device-client-events.js'
import { cloudMessageInvalid, decodeCloudPayload } from './cloud-payload.js'

/** Decodes a report from the device's `errors` topic (docs/protocol.md §8). */
export function decodeErrorReport(payload: Uint8Array, topic: string): CloudErrorReport {
  return checkErrorReport(decodeCloudPayload(payload, topic), topic)
}

function checkErrorReport(body: unknown, topic: string): CloudErrorReport {
  const b = body as { topic?: unknown; error?: { code?: unknown; message?: unknown }; ts?: unknown }
  if (
    typeof b.topic !== 'string' ||
    typeof b.error?.code !== 'string' ||
    typeof b.error.message !== 'string'
  ) {
    throw cloudMessageInvalid(topic, 'an error report needs topic, error.code and error.message')
  }
  const base = { topic: b.topic, error: { code: b.error.code, message: b.error.message } }
  return typeof b.ts === 'number' ? { ...base, ts: b.ts } : base
}
