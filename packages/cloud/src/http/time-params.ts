import Type from 'typebox'
import { CloudError } from '../errors.js'

/** A time in a query string: epoch milliseconds, or an RFC 3339 time; read with `timeOf`. */
export const Time = Type.String({
  maxLength: 40,
  description: 'epoch milliseconds, or an RFC 3339 time',
})

/** Epoch ms, or an RFC 3339 time; a clear 400 naming `field` otherwise. */
export function timeOf(text: string, field: string): number {
  if (/^-?\d{1,16}$/.test(text)) return Number(text)
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new CloudError(
      'CLOUD_INVALID',
      `${field}: ${JSON.stringify(text.slice(0, 40))} is not epoch milliseconds or an RFC 3339 time`,
      { details: { field } },
    )
  }
  return ms
}
