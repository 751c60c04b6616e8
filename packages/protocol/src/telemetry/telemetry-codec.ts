import { decodeCbor, encodeCbor, type CborValue } from '../codec/cbor/index.js'
import { parseJson } from '../codec/json/index.js'
import type { LinePrecision } from '../codec/line-protocol/index.js'
import { ProtocolError } from '../errors/protocol-error.js'
import type { PayloadFormat } from '../topics/topic-tree.js'
import { linePointsToTelemetry, telemetryToLinePoints } from './line-protocol-telemetry.js'
import { normalizeTelemetry } from './normalize-telemetry.js'
import { telemetryLimits, type TelemetryRecord } from './telemetry-schema.js'

export interface TelemetryCodecOptions {
  /** Unit of line-protocol timestamps; InfluxDB's default is nanoseconds. */
  readonly precision?: LinePrecision
  /** Largest payload in bytes (at most the protocol's own limit applies by default). */
  readonly maxBytes?: number
}

const encoder = new TextEncoder()

/**
 * Decodes a telemetry payload in any of the protocol's encodings into validated records. Every
 * failure is a `ProtocolError` that says what is wrong and where: a JSON pointer for JSON and CBOR,
 * line and column for line protocol, a byte offset for malformed bytes.
 *
 * @example
 * decodeTelemetry(new TextEncoder().encode('{"temp":21.5}'), 'json') // [{ values: { temp: 21.5 } }]
 */
export function decodeTelemetry(
  payload: Uint8Array,
  format: PayloadFormat,
  options: TelemetryCodecOptions = {},
): TelemetryRecord[] {
  const maxBytes = options.maxBytes ?? telemetryLimits.maxBytes
  switch (format) {
    case 'json':
      return normalizeTelemetry(
        parseJson(payload, { maxBytes, maxDepth: telemetryLimits.maxDepth }),
      )
    case 'cbor':
      return normalizeTelemetry(
        decodeCbor(payload, { maxBytes, maxDepth: telemetryLimits.maxDepth, integers: 'bigint' }),
      )
    case 'lp':
      return linePointsToTelemetry(payload, options.precision ?? 'ns', maxBytes)
  }
}

/**
 * Encodes records for the wire. JSON cannot carry int64 values (JSON numbers are floats here):
 * use CBOR or line protocol for those.
 *
 * @example
 * encodeTelemetry([{ values: { temp: 21.5 } }], 'cbor') // a1 64 74656d70 f9 4d60
 */
export function encodeTelemetry(
  records: readonly TelemetryRecord[],
  format: PayloadFormat,
  options: TelemetryCodecOptions = {},
): Uint8Array {
  switch (format) {
    case 'json':
      return encoder.encode(
        JSON.stringify(
          records.length === 1 ? compact(records[0]) : records.map(compact),
          rejectBigInt,
        ),
      )
    case 'cbor':
      return encodeCbor(
        (records.length === 1 ? compact(records[0]) : records.map(compact)) as CborValue,
        { numbers: 'float' },
      )
    case 'lp':
      return encoder.encode(telemetryToLinePoints(records, options.precision ?? 'ns'))
  }
}

/** A record without timestamp or tags travels as its bare map of values: the fewest bytes. */
function compact(record: TelemetryRecord | undefined): unknown {
  if (record === undefined)
    throw new ProtocolError('PROTOCOL_INVALID', 'telemetry: no records to encode')
  return record.ts === undefined && record.tags === undefined ? record.values : record
}

function rejectBigInt(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    throw new ProtocolError(
      'PROTOCOL_UNSUPPORTED',
      `telemetry value ${JSON.stringify(key)} is an int64, which JSON cannot carry`,
      {
        hint: 'Send int64 values as CBOR integers or line protocol (123i), or as a float in JSON.',
      },
    )
  }
  return value
}
