import { createHmac } from 'node:crypto'

/**
 * The `X-Strata-Signature` of a webhook call, Stripe-style: `v1=` and the hex HMAC-SHA256,
 * keyed with the target's secret (its UTF-8 bytes), of `"<timestamp>.<body>"`, where timestamp
 * is the `X-Strata-Timestamp` header (unix seconds) and body the exact bytes sent. Receivers
 * verify it as docs/rule-actions.md shows; signing the timestamp lets them refuse replays.
 *
 * @example
 * webhookSignature(secret, 1767225600, '{"alarm":"high"}') // 'v1=5f1c…'
 */
export function webhookSignature(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${String(timestampS)}.${body}`)
    .digest('hex')
  return `v1=${mac}`
}
