import { encodeTelemetry } from '@strata/protocol'
import type { Prng } from './prng.js'
import type { SignalValue } from './signal-generator.js'

/** A reading as a device keeps it until it is sent: its time (device clock) and its values. */
export interface TelemetryRecordOut {
  readonly ts?: number
  readonly values: Record<string, SignalValue>
}

/**
 * Encodes readings as the protocol's telemetry (docs/protocol.md §5.1): one record alone, or a
 * batch (an array) when there are several; a record without `ts` is a bare map of values.
 */
export function encodeReadings(
  records: readonly TelemetryRecordOut[],
  format: 'json' | 'cbor',
): Buffer {
  const bytes = encodeTelemetry(records, format)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Corrupts a payload as a flaky radio or a buffer overrun would: a byte at random becomes 0xFF,
 * and so does the first, which guarantees the cloud cannot decode it (0xFF is never valid UTF-8,
 * and in CBOR a lone "break" where an item must start) and answers PUBACK 0x99.
 */
export function corruptPayload(payload: Buffer, rng: Prng): Buffer {
  const copy = Buffer.from(payload)
  copy[rng.int(copy.length)] = 0xff
  copy[0] = 0xff
  return copy
}
