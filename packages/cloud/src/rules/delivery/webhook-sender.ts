import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import {
  addressRefusalIn,
  assertLiteralHostAllowed,
  checkedLookup,
  type AddressPolicy,
  type ResolveHost,
} from './address-policy.js'
import { CloudError } from '../../errors.js'
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
 * permanent. The host is resolved once per connection, by the socket's own lookup, and each
 * address checked against the address policy there: the address checked is the one connected to.
 *
 * @example
 * const sender = createWebhookSender({ policy: { allowPrivateNetworks: false }, clock: Date.now })
 */
export function createWebhookSender(deps: WebhookSenderDeps): DeliverySender<WebhookTarget> {
  // Checked again at every connection and not only when the rule was saved: DNS answers change.
  const lookup = checkedLookup(deps.policy, deps.resolve)
  // Connections of their own, kept alive between calls: a socket the checked lookup did not open
  // (the process's global agent) is never reused for a webhook.
  const agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  }
  return {
    async send(delivery: Delivery<WebhookTarget>, signal: AbortSignal): Promise<void> {
      const { target, body, id } = delivery
      const url = new URL(target.url)
      // An IP literal is never looked up: check it here.
      assertLiteralHostAllowed(url.hostname, deps.policy)
      const timestampS = Math.floor(deps.clock() / 1000)
      const timeoutMs = target.timeoutMs ?? defaultWebhookTimeoutMs
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(target.headers ?? {})) {
        headers[name.toLowerCase()] = value
      }
      Object.assign(headers, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': userAgent,
        'x-strata-delivery': id,
        'x-strata-attempt': String(delivery.attempt),
        'x-strata-timestamp': String(timestampS),
        'x-strata-signature': webhookSignature(target.secret, timestampS, body),
      })
      const timeout = AbortSignal.timeout(timeoutMs)
      let response: { status: number; headers: IncomingHttpHeaders }
      try {
        response = await post(
          url,
          headers,
          body,
          { lookup, agents },
          AbortSignal.any([signal, timeout]),
        )
      } catch (err) {
        const refusal = addressRefusalIn(err)
        if (refusal !== undefined) throw refusal
        const timedOut = timeout.aborted && !signal.aborted
        throw deliveryFailed(
          timedOut
            ? `POST ${url.origin}${url.pathname} got no answer within ${String(timeoutMs)} ms`
            : `POST ${url.origin}${url.pathname} failed: ${describeError(err)}`,
          { retryable: !(err instanceof CloudError) || err.retryable, cause: err },
        )
      }
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
          ? parseRetryAfter(headerOf(response.headers, 'retry-after'), deps.clock())
          : undefined,
      })
    },
    close: () => {
      agents.http.destroy()
      agents.https.destroy()
      return Promise.resolve()
    },
  }
}

/**
 * One POST with `node:http(s)`, whose `lookup` hook fetch does not offer; resolves with the
 * status and headers once they arrive. The answer's body is not read, only drained.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  via: {
    readonly lookup: ReturnType<typeof checkedLookup>
    readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent }
  },
  signal: AbortSignal,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const https = url.protocol === 'https:'
  const request = https ? httpsRequest : httpRequest
  const agent = https ? via.agents.https : via.agents.http
  return new Promise((resolve, reject) => {
    const options = { method: 'POST', headers, lookup: via.lookup, agent, signal }
    const req = request(url, options, (res) => {
      res.resume()
      res.on('error', () => undefined)
      resolve({ status: res.statusCode ?? 0, headers: res.headers })
    })
    req.on('error', reject)
    req.end(body)
  })
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name]
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null)
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
