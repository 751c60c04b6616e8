import { createHash } from 'node:crypto'
import { natsServerUrl } from './check-target.js'
import type { DeliveryTarget } from './delivery-target.js'

const redacted = '[redacted]'

/**
 * The identity the outbox limits and pauses deliveries by: a webhook URL, an AMQP URL and
 * exchange, a NATS server set and subject. Two rules with the same target share it. No secret
 * can be read back from it.
 *
 * @example
 * targetKeyOf({ type: 'webhook', url: 'https://example.com/hook', secret }) // 'webhook:3f0a…'
 */
export function targetKeyOf(target: DeliveryTarget): string {
  let parts: readonly string[]
  switch (target.type) {
    case 'webhook':
      parts = [target.url]
      break
    case 'amqp':
      parts = [target.url, target.exchange]
      break
    case 'nats':
      parts = [...target.servers.map(natsServerUrl).sort(), target.subject, target.token ?? '']
      break
  }
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24)
  return `${target.type}:${digest}`
}

/**
 * A description of a target safe for logs and listings: no secret, password, token or query.
 *
 * @example
 * targetLabelOf(amqpTarget) // 'amqp://broker.example.com:5672/prod exchange=alerts'
 */
export function targetLabelOf(target: DeliveryTarget): string {
  switch (target.type) {
    case 'webhook': {
      const url = new URL(target.url)
      return `${url.origin}${url.pathname}`
    }
    case 'amqp': {
      const url = new URL(target.url)
      const port = url.port === '' ? '' : `:${url.port}`
      return `${url.protocol}//${url.hostname}${port}${url.pathname} exchange=${target.exchange}`
    }
    case 'nats':
      return `${target.servers
        .map((s) => {
          const url = new URL(natsServerUrl(s))
          return `${url.protocol}//${url.host}`
        })
        .join(',')} subject=${target.subject}`
  }
}

/**
 * The target with its secrets replaced: a webhook's secret and header values, an AMQP URL's
 * password, a NATS token. What listings and APIs may show.
 *
 * @example
 * redactTarget(webhook).secret // '[redacted]'
 */
export function redactTarget(target: DeliveryTarget): DeliveryTarget {
  switch (target.type) {
    case 'webhook':
      return {
        ...target,
        secret: redacted,
        ...(target.headers === undefined
          ? {}
          : {
              headers: Object.fromEntries(Object.keys(target.headers).map((k) => [k, redacted])),
            }),
      }
    case 'amqp': {
      const url = new URL(target.url)
      if (url.password !== '') url.password = redacted
      return { ...target, url: url.toString() }
    }
    case 'nats':
      return target.token === undefined ? target : { ...target, token: redacted }
  }
}
