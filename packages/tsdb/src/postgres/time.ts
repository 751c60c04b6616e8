import type { Precision } from '../model/points.js'

/**
 * Exact conversions between the store's integer timestamps (ms or µs since epoch) and
 * timestamptz (µs resolution). No float arithmetic: µs timestamps up to year 9999 exceed 2^53.
 */

const unitsPerSecond = { ms: 1000, us: 1_000_000 } as const

/** A timestamp as timestamptz input text, e.g. `2026-01-10T00:00:00.123456Z`. */
export function toTimestamptz(time: number, precision: Precision): string {
  const perSecond = unitsPerSecond[precision]
  const seconds = Math.floor(time / perSecond)
  const fraction = time - seconds * perSecond
  const digits = precision === 'ms' ? 3 : 6
  return `${isoSeconds(seconds)}.${String(fraction).padStart(digits, '0')}Z`
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC; unlike toISOString, also for year 10000 (a range's end). */
function isoSeconds(seconds: number): string {
  const d = new Date(seconds * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`
  return `${date}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
}

/**
 * SQL turning a timestamptz expression into the store's unit as int8 (EXTRACT returns numeric,
 * so this is exact; a ms store reading µs points floors them).
 */
export function epochSql(expression: string, precision: Precision): string {
  return `floor(extract(epoch FROM ${expression}) * ${String(unitsPerSecond[precision])})::int8`
}

/** A width in the store's unit as interval input text, e.g. `300000000 microseconds`. */
export function intervalText(width: number, precision: Precision): string {
  const us = BigInt(width) * (precision === 'ms' ? 1000n : 1n)
  return `${us.toString()} microseconds`
}

/** A width in the store's unit, in µs. */
export function toMicros(width: number, precision: Precision): number {
  return precision === 'ms' ? width * 1000 : width
}

/** The epoch, as the origin of every `date_bin`. */
export const epochOrigin = `'1970-01-01 00:00:00+00'::timestamptz`
