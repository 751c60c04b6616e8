import { connect, Events, headers, type NatsConnection } from 'nats'
import type { Logger } from 'pino'
import { assertHostAllowed, type AddressPolicy, type ResolveHost } from './address-policy.js'
import { natsServerUrl } from './check-target.js'
import { deliveryFailed, describeError, raceAbort } from './delivery-failure.js'
import type { Delivery, DeliverySender } from './delivery-sender.js'
import type { NatsTarget } from './delivery-target.js'

export interface NatsSenderDeps {
  readonly policy: AddressPolicy
  readonly logger?: Logger | undefined
  readonly resolve?: ResolveHost
}

export interface NatsSenderOptions {
  /** How long opening a connection may take. */
  readonly connectTimeoutMs: number
  /** How long one publish and its flush may take (connecting included). */
  readonly publishTimeoutMs: number
}

const encoder = new TextEncoder()

/**
 * Publishes to NATS subjects: one connection per server set and token, which the client
 * reconnects on its own; a publish counts as delivered once `flush()` returns (the server has
 * it; core NATS keeps nothing for absent subscribers; a JetStream stream on the subject does).
 * Each message carries `Nats-Msg-Id` = the delivery id, which JetStream uses to drop
 * duplicates. Servers the cluster advertises are ignored: only the configured ones are used.
 *
 * @example
 * const sender = createNatsSender({ policy }, { connectTimeoutMs: 5000, publishTimeoutMs: 10000 })
 */
export function createNatsSender(
  deps: NatsSenderDeps,
  options: NatsSenderOptions,
): DeliverySender<NatsTarget> {
  const connections = new Map<string, Promise<NatsConnection>>()
  let closed = false
  let closing: Promise<void> | undefined

  function connectionFor(target: NatsTarget): Promise<NatsConnection> {
    const servers = target.servers.map(natsServerUrl).sort()
    const key = JSON.stringify([servers, target.token ?? null])
    let connection = connections.get(key)
    if (connection === undefined) {
      connection = open(servers, target.token)
      const pending = connection
      connections.set(key, pending)
      pending.then(
        (nc) => {
          // Closed for good (by us, or the client gave up): the next publish opens a new one.
          void nc.closed().then(() => {
            if (connections.get(key) === pending) connections.delete(key)
          })
        },
        () => {
          if (connections.get(key) === pending) connections.delete(key)
        },
      )
    }
    return connection
  }

  async function open(servers: string[], token: string | undefined): Promise<NatsConnection> {
    for (const server of servers) {
      await assertHostAllowed(new URL(server).hostname, deps.policy, deps.resolve)
    }
    let nc: NatsConnection
    try {
      nc = await connect({
        servers,
        ...(token === undefined ? {} : { token }),
        // The client ignores URL schemes; `tls://` must mean TLS or nothing, never a downgrade.
        ...(servers.some((s) => s.startsWith('tls://')) ? { tls: {} } : {}),
        name: 'strata-rule-actions',
        timeout: options.connectTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        ignoreClusterUpdates: true,
      })
    } catch (err) {
      throw deliveryFailed(`cannot connect to NATS ${servers.join(',')}: ${describeError(err)}`, {
        retryable: true,
        cause: err,
      })
    }
    void watch(nc, servers.join(','))
    if (closed) {
      await nc.close().catch(() => undefined)
      throw deliveryFailed('the NATS sender is closed', { retryable: true })
    }
    return nc
  }

  async function watch(nc: NatsConnection, servers: string): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect || status.type === Events.Error) {
        deps.logger?.warn({ servers, status: status.type }, 'nats connection lost')
      } else if (status.type === Events.Reconnect) {
        deps.logger?.info({ servers }, 'nats reconnected')
      }
    }
  }

  async function publish(delivery: Delivery<NatsTarget>): Promise<void> {
    const nc = await connectionFor(delivery.target)
    const h = headers()
    h.set('Nats-Msg-Id', delivery.id)
    h.set('Content-Type', 'application/json')
    h.set('Strata-Attempt', String(delivery.attempt))
    try {
      nc.publish(delivery.target.subject, encoder.encode(delivery.body), { headers: h })
      await nc.flush()
    } catch (err) {
      throw deliveryFailed(
        `NATS publish to ${delivery.target.subject} failed: ${describeError(err)}`,
        { retryable: true, cause: err },
      )
    }
  }

  return {
    send(delivery: Delivery<NatsTarget>, signal: AbortSignal): Promise<void> {
      if (closed) {
        return Promise.reject(deliveryFailed('the NATS sender is closed', { retryable: true }))
      }
      const timeout = AbortSignal.timeout(options.publishTimeoutMs)
      return raceAbort(publish(delivery), AbortSignal.any([signal, timeout]), 'NATS publish')
    },
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true
        const all = [...connections.values()]
        connections.clear()
        await Promise.all(
          all.map(async (pending) => {
            const nc = await pending.catch(() => undefined)
            await nc?.close().catch(() => undefined)
          }),
        )
      })()
      return closing
    },
  }
}
