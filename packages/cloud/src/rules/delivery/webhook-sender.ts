import { assertHostAllowed, type AddressPolicy, type ResolveHost } from './address-policy.js'
import { deliveryFailed, describeError } from './delivery-failure.js'
import type { Delivery, DeliverySender } from './delivery-sender.js'
import { defaultWebhookTimeoutMs, type WebhookTarget } from './delivery-target.js'
import { webhookSignature } from './webhook-signature.js'

export interface WebhookSenderDeps {
  readonly policy: AddressPolicy
  /** Epoch ms, for `X-Strata-Timestamp` and `Retry-After` dates. */
  readonly clock: () => number
  readonly resolve?: ResolveHost
}

const userAgent = 'Strata-Webhook/1'

/**
 * POSTs each message as JSON, signed (`X-Strata-Delivery`, `X-Strata-Timestamp`,
 * `X-Strata-Signature`). 2xx is done; 408, 429, 5xx, timeouts and network errors are retried
 * (honouring `Retry-After`); any other status, a redirect included (none is followed), is
 * permanent. The host is resolved and checked against the address policy before every call.
 *
 * @example
 * const sender = createWebhookSender({ policy: { allowPrivateNetworks: false }, clock: Date.now })
 */
export function createWebhookSender(deps: WebhookSenderDeps): DeliverySender<WebhookTarget> {
  return {
    async send(delivery: Delivery<WebhookTarget>, signal: AbortSignal): Promise<void> {
      const { target, body, id } = delivery
      const url = new URL(target.url)
      // Checked here and not only when the rule was saved: DNS answers change. A resolver
      // that answers differently to fetch's own lookup a moment later is not caught (see docs).
      await assertHostAllowed(url.hostname, deps.policy, deps.resolve)
      const timestampS = Math.floor(deps.clock() / 1000)
      const timeoutMs = target.timeoutMs ?? defaultWebhookTimeoutMs
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          body,
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          headers: {
            ...target.headers,
            'content-type': 'application/json',
            'user-agent': userAgent,
            'x-strata-delivery': id,
            'x-strata-attempt': String(delivery.attempt),
            'x-strata-timestamp': String(timestampS),
            'x-strata-signature': webhookSignature(target.secret, timestampS, body),
          },
        })
      } catch (err) {
        const timedOut = (err as { name?: unknown }).name === 'TimeoutError' && !signal.aborted
        throw deliveryFailed(
          timedOut
            ? `POST ${url.origin}${url.pathname} got no answer within ${String(timeoutMs)} ms`
            : `POST ${url.origin}${url.pathname} failed: ${describeError(err)}`,
          { retryable: true, cause: err },
        )
      }
      // The body is not read: drop it so the connection can be reused or closed.
      await response.body?.cancel().catch(() => undefined)
      const { status } = response
      if (status >= 200 && status < 300) return
      const where = `POST ${url.origin}${url.pathname}`
      if (status >= 300 && status < 400) {
        throw deliveryFailed(`${where} answered ${String(status)}; redirects are not followed`, {
          retryable: false,
          status,
        })
      }
      const retryable = status === 408 || status === 429 || status >= 500
      throw deliveryFailed(`${where} answered ${String(status)}`, {
        retryable,
        status,
        retryAfterMs: retryable
          ? parseRetryAfter(response.headers.get('retry-after'), deps.clock())
          : undefined,
      })
    },
    close: () => Promise.resolve(),
  }
}

/**
 * A `Retry-After` header in ms from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
