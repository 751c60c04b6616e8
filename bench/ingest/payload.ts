// The telemetry both stacks receive (docs/protocol.md §5.1): a batch of records, each with its own
// time stamp and two values, `[{"ts":…,"values":{"temp":21.53,"hum":40.1}}, …]`, as JSON or CBOR.
// Values are never whole numbers, so CBOR always encodes them as floats (a whole number would be
// an integer, and an int64 point in a float64 series is refused).
import { decode, encode } from 'cbor-x'

export const payloadFormats = ['json', 'cbor'] as const
export type PayloadFormat = (typeof payloadFormats)[number]

/** Values per record: `temp` and `hum`. */
export const valuesPerRecord = 2

export function telemetryTopic(format: PayloadFormat, deviceId: string): string {
  const base = `strata/v1/devices/${deviceId}/telemetry`
  return format === 'json' ? base : `${base}/${format}`
}

/** One batch, the records at `times`; `seq` varies the values from batch to batch. */
export function encodeBatch(
  format: PayloadFormat,
  times: readonly number[],
  seq: number,
): string | Buffer {
  if (format === 'json') {
    let text = '['
    for (let i = 0; i < times.length; i++) {
      const k = seq * 7 + i
      text += `${i === 0 ? '' : ','}{"ts":${String(times[i])},"values":{"temp":${temp(k)},"hum":${hum(k)}}}`
    }
    return `${text}]`
  }
  return encode(
    times.map((ts, i) => {
      const k = seq * 7 + i
      return { ts, values: { temp: Number(temp(k)), hum: Number(hum(k)) } }
    }),
  )
}

/** 21.01 … 21.98: two decimals, never whole. */
function temp(k: number): string {
  return `21.${String((k % 98) + 1).padStart(2, '0')}`
}

/** 40.1 … 40.9. */
function hum(k: number): string {
  return `40.${String((k % 9) + 1)}`
}

/** A decoded record, as the peer's subscriber reads it. */
export interface PeerRecord {
  readonly ts: number
  readonly values: Readonly<Record<string, number>>
}

/**
 * What a hand-written subscriber does with a payload: parse it and check the shape just enough to
 * write rows (our node validates fully against the protocol's schema).
 */
export function decodeBatch(format: PayloadFormat, payload: Buffer): PeerRecord[] {
  const data: unknown = format === 'json' ? JSON.parse(payload.toString('utf8')) : decode(payload)
  if (!Array.isArray(data)) throw new Error('telemetry batch is not an array')
  return data.map((r: unknown) => {
    const record = r as Partial<PeerRecord> | null
    if (typeof record?.ts !== 'number' || typeof record.values !== 'object')
      throw new Error('telemetry record without ts or values')
    return record as PeerRecord
  })
}
