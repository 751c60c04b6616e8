import type { Duplex } from 'node:stream'
import pino, { type Logger } from 'pino'
import { Connection } from '../connection/connection.js'
import type { ConnectionInfo } from '../connection/connection-info.js'
import { reason } from '../connection/reason-codes.js'
import type { BrokerHooks } from '../hooks/broker-hooks.js'
import type { BrokerMessage, MessageProperties } from '../message.js'
import { createMemorySessionStore } from '../store/memory-session-store.js'
import type { SessionStore } from '../store/session-store.js'
import { startSysTopics } from '../sys/sys-topics.js'
import { BrokerCore } from './broker-core.js'
import {
  defaultBrokerLimits,
  defaultBrokerOptions,
  type BrokerLimits,
  type BrokerOptions,
} from './broker-options.js'
import type { BrokerMetrics } from './metrics.js'

/** What the broker is built from; everything but the hooks has a default. */
export interface BrokerDeps {
  readonly hooks: BrokerHooks
  /** Where persistent sessions and retained messages live; default: memory (lost on exit). */
  readonly store?: SessionStore
  readonly logger?: Logger
  readonly clock?: () => number
}

/** Options as the embedder gives them: any subset, limits included. */
export type BrokerSettings = Partial<Omit<BrokerOptions, 'limits'>> & {
  readonly limits?: Partial<BrokerLimits>
}

/** A message the platform publishes itself (commands, twin deltas…), routed like any other. */
export interface ServerMessage {
  readonly topic: string
  readonly payload: Uint8Array | string
  readonly qos?: 0 | 1 | 2
  readonly retain?: boolean
  readonly properties?: MessageProperties
}

/** An MQTT 3.1.1 + 5.0 broker that owns no port: listeners hand it streams. */
export interface Broker {
  /** Serves one client over any duplex stream: a TCP or TLS socket, a WebSocket stream. */
  handle(stream: Duplex, info: ConnectionInfo): void
  /** Publishes as the broker; resolves when the message is durable where it had to be. */
  publish(message: ServerMessage): Promise<void>
  /** Cuts every connection of an identity at once (e.g. a revoked device); returns how many. */
  disconnectIdentity(
    identityId: string,
    options?: { reasonCode?: number; discardSessions?: boolean; publishWill?: boolean },
  ): number
  readonly metrics: Readonly<BrokerMetrics>
  /** Connected clients now. */
  readonly connectionCount: number
  /** Sessions now, online and offline. */
  readonly sessionCount: number
  /** Disconnects every client (0x8B server shutting down), flushes and closes the store. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Creates a broker and restores its sessions from the store.
 *
 * @example
 * const broker = await createBroker({ hooks: { authenticate: () => ({ ok: true, identity: { id: 'x' } }) } })
 * const server = await listenTcp(broker, { port: 0 })
 */
export async function createBroker(
  deps: BrokerDeps,
  settings: BrokerSettings = {},
): Promise<Broker> {
  const options: BrokerOptions = {
    ...defaultBrokerOptions,
    ...settings,
    limits: { ...defaultBrokerLimits, ...settings.limits },
  }
  const store = deps.store ?? createMemorySessionStore()
  const log = (deps.logger ?? pino({ level: 'silent' })).child({ component: 'mqtt' })
  const clock = deps.clock ?? Date.now
  const core = new BrokerCore({ hooks: deps.hooks, store, log, clock }, options)
  core.restore(await store.load())
  const sys = startSysTopics(core)
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      core.stop()
      sys.stop()
      for (const conn of [...core.connections]) {
        conn.close('the broker is shutting down', {
          reasonCode: reason.serverShuttingDown,
          publishWill: false,
        })
      }
      for (const session of core.sessions.values()) session.saveMeta()
      await store.close()
    })()
    return closed
  }
  return {
    handle: (stream, info) => new Connection(core, stream, info),
    publish: async (m) => {
      const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload
      const now = clock()
      const expiry = m.properties?.messageExpiryInterval
      const message: BrokerMessage = {
        topic: m.topic,
        payload,
        qos: m.qos ?? 0,
        retain: m.retain ?? false,
        properties: m.properties ?? {},
        createdAtMs: now,
        ...(expiry === undefined ? {} : { expiresAtMs: now + expiry * 1000 }),
      }
      await core.acceptPublish(message)
    },
    disconnectIdentity: (id, o) => core.disconnectIdentity(id, o),
    metrics: core.metrics,
    get connectionCount() {
      return core.connections.size
    },
    get sessionCount() {
      return core.sessions.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
