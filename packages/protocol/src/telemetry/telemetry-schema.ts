import Type, { type Static } from 'typebox'
import { namePattern } from '../schema/names.js'

/** Limits every telemetry message is held to, whatever its encoding. */
export const telemetryLimits = {
  /** Largest payload in bytes. */
  maxBytes: 262_144,
  /** Most records (timestamps) in one message. */
  maxRecords: 10_000,
  /** Most values in one record. */
  maxValuesPerRecord: 1_000,
  /** Longest string value, in characters: telemetry strings are states and codes, not documents. */
  maxStringLength: 1_024,
  /** Most tags on one record, and the longest tag value. */
  maxTags: 32,
  maxTagValueLength: 256,
  /** Deepest nesting: a batch array, a record, its values. */
  maxDepth: 4,
} as const

const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n

/**
 * One value: a float64 (a JS number, finite), an int64 (a bigint; from CBOR integers or line
 * protocol `i`/`u`), a boolean or a short string.
 */
export const TelemetryValue = Type.Union([
  Type.Number(),
  Type.BigInt({ minimum: int64Min, maximum: int64Max }),
  Type.Boolean(),
  Type.String({ maxLength: telemetryLimits.maxStringLength }),
])
export type TelemetryValue = Static<typeof TelemetryValue>

/** Metric name → value; metric names follow the protocol's name rule. */
export const TelemetryValues = Type.Record(Type.String({ pattern: namePattern }), TelemetryValue, {
  additionalProperties: false,
  minProperties: 1,
  maxProperties: telemetryLimits.maxValuesPerRecord,
})
export type TelemetryValues = Static<typeof TelemetryValues>

export const TelemetryTags = Type.Record(
  Type.String({ pattern: namePattern }),
  Type.String({ minLength: 1, maxLength: telemetryLimits.maxTagValueLength }),
  { additionalProperties: false, maxProperties: telemetryLimits.maxTags },
)

/** Epoch milliseconds, from 1970 to the end of JS dates (year 275760). */
export const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 })

/** One record: values measured at `ts` (absent: the time the cloud received them), with tags. */
export const TelemetryRecord = Type.Object(
  { ts: Type.Optional(EpochMs), values: TelemetryValues, tags: Type.Optional(TelemetryTags) },
  { additionalProperties: false },
)
export type TelemetryRecord = Static<typeof TelemetryRecord>
