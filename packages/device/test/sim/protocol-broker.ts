/**
 * A broker for the simulator's integration tests that enforces the device protocol as the cloud
 * does: a device may only use its own namespace (authorizePublish / authorizeSubscribe from
 * @strata/protocol), telemetry must decode (decodeTelemetry) and other messages must match their
 * schema (decodeDeviceMessage), else PUBACK 0x99 with the reason. Everything accepted is kept for
 * the test to inspect.
 */
import type { TestContext } from 'node:test'
import {
  authorizePublish,
  authorizeSubscribe,
  decodeDeviceMessage,
  isStrataError,
  parseTopicName,
  type DeviceMessage,
  type TopicKind,
} from '@strata/protocol'
import {
  createBroker,
  listenTcp,
  type Broker,
  type BrokerHooks,
  type ClientInfo,
  type Listener,
} from '@strata/mqtt'

/** One message the broker accepted (or refused) from a device. */
export interface Received {
  readonly deviceId: string
  readonly kind: TopicKind
  readonly topic: string
  readonly message?: DeviceMessage
  readonly refused?: string
  readonly payload: Buffer
  readonly correlationData?: Buffer
}

export interface ProtocolBroker {
  readonly broker: Broker
  readonly listener: Listener
  readonly url: string
  /** Everything devices published, in arrival order. */
  readonly received: Received[]
  /** Connections accepted so far, by client id. */
  readonly connects: Map<string, number>
  /** What accepted messages of one kind (e.g. telemetry) of one device look like. */
  of(deviceId: string, kind: TopicKind): Received[]
}

export interface ProtocolBrokerOptions {
  /** Tokens by device id: a CONNECT with another password is refused with 0x86. */
  readonly tokens?: ReadonlyMap<string, string>
  /** Lets a test change the verdict on a message (return a reason code to refuse it). */
  readonly onPublish?: (deviceId: string, kind: TopicKind) => number | undefined
  readonly sessionExpiryCapS?: number
}

/** Starts the broker on port 0; it is closed after the test. */
export async function startProtocolBroker(
  t: TestContext,
  options: ProtocolBrokerOptions = {},
): Promise<ProtocolBroker> {
  const received: Received[] = []
  const connects = new Map<string, number>()
  const device = (client: ClientInfo) => ({ kind: 'device', deviceId: client.identity.id }) as const
  const hooks: BrokerHooks = {
    authenticate: (c) => {
      const id = c.username ?? c.clientId
      const token = options.tokens?.get(id)
      if (token !== undefined && Buffer.from(c.password ?? []).toString() !== token)
        return { ok: false, reasonCode: 0x86, reason: 'bad token' }
      return { ok: true, identity: { id } }
    },
    authorizePublish: (client, topic) => {
      const decision = authorizePublish(device(client), topic)
      return decision.allowed ? { allowed: true } : { allowed: false, reason: decision.reason }
    },
    authorizeSubscribe: (client, filter) => {
      const decision = authorizeSubscribe(device(client), filter)
      return decision.allowed ? { allowed: true } : { allowed: false, reason: decision.reason }
    },
    onConnect: (client) => {
      connects.set(client.clientId, (connects.get(client.clientId) ?? 0) + 1)
    },
    onPublish: (client, m) => {
      const topic = parseTopicName(m.topic)
      if (topic === undefined) return 0x99
      const payload = Buffer.from(m.payload)
      const deviceId = client.identity.id
      const cd = m.properties.correlationData
      const extra = cd === undefined ? {} : { correlationData: Buffer.from(cd) }
      const forced = options.onPublish?.(deviceId, topic.kind)
      if (forced !== undefined) {
        received.push({
          deviceId,
          kind: topic.kind,
          topic: m.topic,
          refused: 'forced',
          payload,
          ...extra,
        })
        return forced
      }
      try {
        const message = decodeDeviceMessage(topic.kind, topic.format, m.payload)
        received.push({ deviceId, kind: topic.kind, topic: m.topic, message, payload, ...extra })
        return undefined
      } catch (err) {
        const reason = isStrataError(err) ? err.message : String(err)
        received.push({
          deviceId,
          kind: topic.kind,
          topic: m.topic,
          refused: reason,
          payload,
          ...extra,
        })
        return { reasonCode: 0x99, reason: reason.slice(0, 200) }
      }
    },
  }
  const broker = await createBroker(
    { hooks },
    {
      sysIntervalSec: 0,
      limits: { maxSessionExpirySec: options.sessionExpiryCapS ?? 3600 },
    },
  )
  const listener = await listenTcp(broker, { port: 0 })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return {
    broker,
    listener,
    url: listener.url,
    received,
    connects,
    of: (deviceId, kind) =>
      received.filter((r) => r.deviceId === deviceId && r.kind === kind && r.refused === undefined),
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every 20 ms until it holds; fails after `ms` with `what`. */
export async function eventually(
  check: () => boolean,
  ms: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${String(ms)} ms: ${typeof what === 'string' ? what : what()}`,
      )
    await sleep(20)
  }
}

/** `n` anonymous identities `prefix-0` … */
export function anonymous(n: number, prefix = 'sim'): { id: string; auth: { kind: 'none' } }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i)}`,
    auth: { kind: 'none' },
  }))
}
