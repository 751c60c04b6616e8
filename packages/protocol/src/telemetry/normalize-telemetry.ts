import { ProtocolError } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { TelemetryRecord, TelemetryValues, telemetryLimits } from './telemetry-schema.js'

const decodeRecord = decoder(TelemetryRecord)
const decodeValues = decoder(TelemetryValues)

/** Keys that make an object a full record rather than a bare map of values. */
const reservedKeys = ['ts', 'values', 'tags'] as const

/**
 * Turns a decoded JSON or CBOR telemetry payload into records. Three shapes are accepted:
 * a bare map of values `{"temp": 21.5}`, a record `{"ts": 1700000000000, "values": {…}}`, or an
 * array of either. A bare map may not use the reserved keys `ts`, `values` or `tags`.
 *
 * @example
 * normalizeTelemetry({ temp: 21.5 }) // [{ values: { temp: 21.5 } }]
 */
export function normalizeTelemetry(payload: unknown): TelemetryRecord[] {
  if (!Array.isArray(payload)) return [normalizeOne(payload, 'telemetry')]
  if (payload.length === 0) {
    throw new ProtocolError('PROTOCOL_INVALID', 'telemetry: the batch is empty', {
      hint: 'Send at least one record.',
    })
  }
  if (payload.length > telemetryLimits.maxRecords) {
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `telemetry: ${String(payload.length)} records exceed ${String(telemetryLimits.maxRecords)}`,
      {
        hint: 'Split the batch into several messages.',
      },
    )
  }
  return payload.map((item, i) => normalizeOne(item, `telemetry /${String(i)}`))
}

function normalizeOne(item: unknown, what: string): TelemetryRecord {
  if (
    typeof item !== 'object' ||
    item === null ||
    Array.isArray(item) ||
    item instanceof Uint8Array
  ) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `${what}: must be an object of values or a {ts, values} record`,
      {
        hint: 'Send {"temp": 21.5} or {"ts": 1700000000000, "values": {"temp": 21.5}}.',
      },
    )
  }
  if (Object.hasOwn(item, 'values')) return decodeRecord(withNumericTs(item), what)
  const reserved = reservedKeys.find((key) => Object.hasOwn(item, key))
  if (reserved !== undefined) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `${what}: "${reserved}" is reserved; a record with a timestamp or tags needs "values"`,
      {
        hint: 'Send {"ts": 1700000000000, "values": {"temp": 21.5}}.',
      },
    )
  }
  return { values: decodeValues(item, what) }
}

/**
 * CBOR integers decode as bigint (to keep int64 values exact), but a timestamp is epoch ms: a
 * device that writes `ts` as a CBOR unsigned integer (tinycbor's `cbor_encode_uint`, zcbor) means
 * the same as one that writes a float. Out-of-range values stay bigint and fail the schema.
 */
function withNumericTs(item: object): object {
  const ts = (item as { ts?: unknown }).ts
  return typeof ts === 'bigint' && ts >= 0n && ts <= BigInt(Number.MAX_SAFE_INTEGER)
    ? { ...item, ts: Number(ts) }
    : item
}
