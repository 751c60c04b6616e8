import {
  formatLineProtocol,
  parseLineProtocol,
  type LineFieldValue,
  type LinePoint,
  type LinePrecision,
} from '../codec/line-protocol/index.js'
import { ProtocolError } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { TelemetryRecord, telemetryLimits, type TelemetryValue } from './telemetry-schema.js'

const decodeRecord = decoder(TelemetryRecord)

/** Time units per millisecond, for each precision. */
const perMs: Record<LinePrecision, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n }

/**
 * Line protocol maps onto telemetry as InfluxDB users expect: each field of measurement `m`
 * becomes metric `m.field`, tags stay tags, the timestamp is converted to epoch ms (sub-ms digits
 * are dropped, rounding down). Unsigned fields must fit int64.
 */
export function linePointsToTelemetry(
  payload: Uint8Array,
  precision: LinePrecision,
  maxBytes: number,
): TelemetryRecord[] {
  const points = parseLineProtocol(payload, { maxBytes, maxLines: telemetryLimits.maxRecords })
  return points.map((point, i) =>
    decodeRecord(toRecord(point, precision), `line-protocol point ${String(i + 1)}`),
  )
}

function toRecord(point: LinePoint, precision: LinePrecision): unknown {
  const values: Record<string, TelemetryValue> = {}
  for (const [field, value] of point.fields)
    values[`${point.measurement}.${field}`] = toValue(value, point, field)
  const record: Record<string, unknown> = { values }
  if (point.tags.length > 0) record['tags'] = Object.fromEntries(point.tags)
  if (point.timestamp !== undefined) record['ts'] = toEpochMs(point.timestamp, precision)
  return record
}

function toValue(value: LineFieldValue, point: LinePoint, field: string): TelemetryValue {
  if (value.type === 'unsigned' && value.value > 2n ** 63n - 1n) {
    throw new ProtocolError(
      'PROTOCOL_UNSUPPORTED',
      `line-protocol field ${point.measurement}.${field}: unsigned ${String(value.value)} exceeds int64`,
      {
        hint: 'Telemetry integers are int64; send larger values as floats.',
      },
    )
  }
  return value.value
}

function toEpochMs(timestamp: bigint, precision: LinePrecision): number {
  const ms = precision === 's' ? timestamp * 1000n : floorDiv(timestamp, perMs[precision])
  if (ms < 0n || ms > 8_640_000_000_000_000n) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `line-protocol timestamp ${String(timestamp)} (${precision}) is outside 1970..275760`,
      {
        hint: 'Check the precision: InfluxDB line protocol timestamps are nanoseconds unless told otherwise.',
      },
    )
  }
  return Number(ms)
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n ? q - 1n : q
}

/** Records to line protocol: metric `m.field` splits at its last dot into measurement and field. */
export function telemetryToLinePoints(
  records: readonly TelemetryRecord[],
  precision: LinePrecision,
): string {
  const points = records.flatMap((record) => {
    const byMeasurement = new Map<string, [string, LineFieldValue][]>()
    for (const [metric, value] of Object.entries(record.values)) {
      const dot = metric.lastIndexOf('.')
      if (dot <= 0 || dot === metric.length - 1) {
        throw new ProtocolError(
          'PROTOCOL_UNSUPPORTED',
          `metric ${JSON.stringify(metric)} has no measurement.field form for line protocol`,
          {
            hint: 'Name metrics measurement.field to send them as line protocol, or use JSON or CBOR.',
          },
        )
      }
      const fields = byMeasurement.get(metric.slice(0, dot)) ?? []
      fields.push([metric.slice(dot + 1), toField(value)])
      byMeasurement.set(metric.slice(0, dot), fields)
    }
    return [...byMeasurement].map(([measurement, fields]): LinePoint => ({
      measurement,
      tags: Object.entries(record.tags ?? {}),
      fields,
      ...(record.ts === undefined ? {} : { timestamp: fromEpochMs(record.ts, precision) }),
    }))
  })
  return formatLineProtocol(points)
}

function toField(value: TelemetryValue): LineFieldValue {
  if (typeof value === 'number') return { type: 'float', value }
  if (typeof value === 'bigint') return { type: 'integer', value }
  if (typeof value === 'boolean') return { type: 'boolean', value }
  return { type: 'string', value }
}

function fromEpochMs(ms: number, precision: LinePrecision): bigint {
  return precision === 's' ? BigInt(Math.floor(ms / 1000)) : BigInt(ms) * perMs[precision]
}
