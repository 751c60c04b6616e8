import { decoder, isStrataError } from '@strata/protocol'
import { CloudError } from '../../errors.js'
import {
  assertHostAllowed,
  assertLiteralAllowed,
  type AddressPolicy,
  type ResolveHost,
} from './address-policy.js'
import {
  AmqpTarget,
  defaultWebhookTimeoutMs,
  type DeliveryTarget,
  NatsTarget,
  WebhookTarget,
} from './delivery-target.js'

const decoders = {
  webhook: decoder(WebhookTarget),
  amqp: decoder(AmqpTarget),
  nats: decoder(NatsTarget),
} as const

/** Headers a webhook target may not set: Strata's own, and those the HTTP client owns. */
const reservedHeader =
  /^(x-strata-.*|host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|expect|proxy-.*)$/i

/**
 * Decodes a delivery target and checks what a schema cannot, without touching the network:
 * schemes (http/https, amqp/amqps, nats/tls), no credentials in webhook or NATS URLs (a NATS
 * target has `token`), no reserved headers, and no
 * literal non-public address unless `policy` allows private networks. Fills in defaults.
 * Throws `CLOUD_DELIVERY_TARGET_INVALID` naming the field.
 *
 * @example
 * parseDeliveryTarget({ type: 'nats', servers: ['nats://nats.example.com'], subject: 'alerts' },
 *   { allowPrivateNetworks: false })
 */
export function parseDeliveryTarget(value: unknown, policy: AddressPolicy): DeliveryTarget {
  const type = (value as { type?: unknown } | null)?.type
  if (type !== 'webhook' && type !== 'amqp' && type !== 'nats') {
    throw invalid('target/type must be "webhook", "amqp" or "nats"', 'target/type')
  }
  let target: DeliveryTarget
  try {
    target = decoders[type](value, 'target')
  } catch (err) {
    if (!isStrataError(err)) throw err
    const path = (err.details['violations'] as { path: string }[] | undefined)?.[0]?.path ?? ''
    throw invalid(err.message, `target${path}`, err)
  }
  switch (target.type) {
    case 'webhook':
      return checkWebhook(target, policy)
    case 'amqp':
      checkUrl(target.url, ['amqp:', 'amqps:'], 'target/url', policy, true)
      return {
        ...target,
        persistent: target.persistent ?? true,
        mandatory: target.mandatory ?? true,
      }
    case 'nats':
      target.servers.forEach((s, i) => {
        checkUrl(natsServerUrl(s), ['nats:', 'tls:'], `target/servers/${String(i)}`, policy, false)
      })
      return target
  }
}

/**
 * {@link parseDeliveryTarget}, then resolves every host name and refuses any that resolves to a
 * non-public address (unless allowed): the check a rule gets when it is saved. Deliveries check
 * again before they connect, since DNS answers change.
 *
 * @example
 * const target = await checkDeliveryTarget(body.action.target, { allowPrivateNetworks: false })
 */
export async function checkDeliveryTarget(
  value: unknown,
  policy: AddressPolicy,
  resolve?: ResolveHost,
): Promise<DeliveryTarget> {
  const target = parseDeliveryTarget(value, policy)
  for (const host of targetHosts(target)) {
    try {
      await assertHostAllowed(host, policy, resolve)
    } catch (err) {
      if (isStrataError(err) && err.code === 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN') {
        throw new CloudError('CLOUD_DELIVERY_TARGET_INVALID', err.message, {
          hint: err.hint ?? '',
          details: { ...err.details, field: 'target' },
          cause: err,
        })
      }
      throw err
    }
  }
  return target
}

/** The host names a target connects to (its webhook or broker hosts). */
export function targetHosts(target: DeliveryTarget): string[] {
  switch (target.type) {
    case 'webhook':
    case 'amqp':
      return [new URL(target.url).hostname]
    case 'nats':
      return target.servers.map((s) => new URL(natsServerUrl(s)).hostname)
  }
}

/** A NATS server as a URL: `host:port` is taken as `nats://host:port`, as the client does. */
export function natsServerUrl(server: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`
}

function checkWebhook(target: WebhookTarget, policy: AddressPolicy): WebhookTarget {
  checkUrl(target.url, ['http:', 'https:'], 'target/url', policy, false)
  // The schema's minLength (32 characters) already means at least 32 bytes of UTF-8.
  for (const name of Object.keys(target.headers ?? {})) {
    if (reservedHeader.test(name)) {
      throw invalid(
        `target/headers/${name} is set by Strata and cannot be overridden`,
        'target/headers',
      )
    }
  }
  return { ...target, timeoutMs: target.timeoutMs ?? defaultWebhookTimeoutMs }
}

function checkUrl(
  text: string,
  schemes: readonly string[],
  field: string,
  policy: AddressPolicy,
  credentialsAllowed: boolean,
): void {
  let url: URL
  try {
    url = new URL(text)
  } catch (err) {
    throw invalid(`${field} is not a URL`, field, err)
  }
  if (!schemes.includes(url.protocol)) {
    throw invalid(
      `${field} has scheme ${url.protocol.replace(/:$/, '')}; only ${schemes.map((s) => s.replace(/:$/, '')).join(' or ')} are allowed`,
      field,
    )
  }
  if (!credentialsAllowed && (url.username !== '' || url.password !== '')) {
    throw invalid(`${field} has credentials in it`, field)
  }
  if (url.hostname === '') throw invalid(`${field} has no host`, field)
  assertLiteralAllowed(url.hostname, policy, field)
}

function invalid(message: string, field: string, cause?: unknown): CloudError {
  const hint = field.endsWith('secret')
    ? 'Use a random secret of at least 32 bytes, e.g. `openssl rand -hex 32`.'
    : field.includes('url') || field.includes('servers')
      ? 'Webhooks take http(s) URLs without user:password (sign with the secret instead); NATS takes a token.'
      : 'Fix the field the message names (docs/rule-actions.md).'
  return new CloudError('CLOUD_DELIVERY_TARGET_INVALID', message, {
    hint,
    details: { field },
    ...(cause === undefined ? {} : { cause }),
  })
}
