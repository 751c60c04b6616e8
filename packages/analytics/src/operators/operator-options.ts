import { AnalyticsError } from '../errors.js'

/** Throws `ANALYTICS_OPTIONS_INVALID` unless `value` is a finite number above 0 (or ≥ 0). */
export function checkPositive(
  what: string,
  value: number,
  options: { readonly allowZero?: boolean; readonly integer?: boolean } = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (options.allowZero === true ? value >= 0 : value > 0) &&
    (options.integer !== true || Number.isSafeInteger(value))
  if (!ok) {
    const kind = options.integer === true ? 'an integer' : 'a number'
    const range = options.allowZero === true ? '≥ 0' : '> 0'
    throw new AnalyticsError(
      'ANALYTICS_OPTIONS_INVALID',
      `${what} must be ${kind} ${range}, got ${String(value)}`,
      {
        details: { field: what },
      },
    )
  }
  return value
}

/** Throws `ANALYTICS_OPTIONS_INVALID` with `message`. */
export function invalidOptions(field: string, message: string): AnalyticsError {
  return new AnalyticsError('ANALYTICS_OPTIONS_INVALID', message, { details: { field } })
}
