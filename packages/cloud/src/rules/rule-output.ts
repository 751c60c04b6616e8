import type { RuleOutput, RuleValue } from '@strata/analytics'
import { isName, type CborValue, type JsonObject, type TelemetryValue } from '@strata/protocol'

const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n

/**
 * A rule's output as JSON: an int64 that fits a double becomes a number (else its decimal
 * string), bytes become base64. What webhooks, NATS, AMQP, twins and commands receive.
 */
export function outputAsJson(output: RuleOutput): JsonObject {
  return jsonOf(output) as JsonObject
}

function jsonOf(value: RuleValue): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (Array.isArray(value)) return (value as readonly RuleValue[]).map(jsonOf)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, RuleValue>)) {
      Object.defineProperty(out, k, {
        value: jsonOf(v),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return value
}

/** A rule's output as CBOR (ints stay ints, bytes stay bytes). */
export function outputAsCbor(output: RuleOutput): CborValue {
  return output as unknown as CborValue
}

/**
 * The telemetry values a `store` action writes: each top-level field whose value is a finite
 * number, an int64, a boolean or a string of at most 1024 characters, named `prefix + field`
 * when that is a valid metric name. Others are left out.
 */
export function outputAsTelemetry(
  output: RuleOutput,
  prefix: string,
): Record<string, TelemetryValue> {
  const values: Record<string, TelemetryValue> = {}
  for (const [field, value] of Object.entries(output)) {
    const metric = `${prefix}${field}`
    if (!isName(metric)) continue
    if (
      (typeof value === 'number' && Number.isFinite(value)) ||
      typeof value === 'boolean' ||
      (typeof value === 'string' && value.length <= 1024) ||
      (typeof value === 'bigint' && value >= int64Min && value <= int64Max)
    ) {
      values[metric] = value
    }
  }
  return values
}
