/**
 * The SDK's integration tests run against our own broker, in process, on port 0, with hooks that
 * do what the cloud's do: a token per device (user name = client id = device id) and the
 * protocol's namespace rules (`authorizePublish` / `authorizeSubscribe`). Every device publish is
 * recorded; a test may answer it with a PUBACK reason code, as ingestion would.
 */
import type { TestContext } from 'node:test'
import {
  createBroker,
  listenTcp,
  type Broker,
  type BrokerMessage,
  type Listener,
  type PublishVerdict,
} from '@strata/mqtt'
import { authorizePublish, authorizeSubscribe, type TopicIdentity } from '@strata/protocol'
import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientOptions,
} from '../../src/sdk/index.js'

export interface Published {
  readonly clientId: string
  readonly message: BrokerMessage
  readonly topic: string
  readonly json: any
}

export interface SdkBroker {
  readonly broker: Broker
  readonly port: number
  readonly url: string
  /** Every message a device published, in order. */
  readonly published: Published[]
  /** Devices and their tokens; add before connecting. */
  readonly tokens: Map<string, string>
  /** Answers each device publish (undefined: accept); the PUBACK waits for a promise. */
  verdict: (p: Published) => PublishVerdict | Promise<PublishVerdict>
  /** Refuses a CONNECT with this reason code before the token check (undefined: go on). */
  connectVerdict: (clientId: string) => number | undefined
  /** Why each device connection ended, as the broker saw it. */
  readonly disconnects: { clientId: string; reason: string }[]
  /** How many CONNECTs were refused, and denied publishes / subscribes. */
  readonly counts: { refusedConnects: number; deniedPublishes: number; deniedSubscribes: number }
  /** Publishes as the cloud would (QoS 1). */
  cloudPublish(topic: string, body: unknown, properties?: Record<string, unknown>): Promise<void>
  /** Stops the listener: devices lose their connection and cannot reconnect; sessions stay. */
  stopListener(): Promise<void>
  /** Listens again on the same port. */
  startListener(): Promise<void>
}

export async function startSdkBroker(t: TestContext): Promise<SdkBroker> {
  const published: Published[] = []
  const tokens = new Map<string, string>()
  const counts = { refusedConnects: 0, deniedPublishes: 0, deniedSubscribes: 0 }
  const identity = (clientId: string): TopicIdentity => ({ kind: 'device', deviceId: clientId })
  const disconnects: { clientId: string; reason: string }[] = []
  const state: {
    verdict: (p: Published) => PublishVerdict | Promise<PublishVerdict>
    connectVerdict: (clientId: string) => number | undefined
  } = { verdict: () => undefined, connectVerdict: () => undefined }
  const broker = await createBroker(
    {
      hooks: {
        authenticate: (ctx) => {
          const refuse = state.connectVerdict(ctx.clientId)
          if (refuse !== undefined) {
            counts.refusedConnects += 1
            return { ok: false, reasonCode: refuse }
          }
          const password = ctx.password === undefined ? '' : Buffer.from(ctx.password).toString()
          const token = tokens.get(ctx.clientId)
          if (token === undefined || token !== password || ctx.username !== ctx.clientId) {
            counts.refusedConnects += 1
            return { ok: false, reasonCode: 0x86, reason: 'bad token' }
          }
          return { ok: true, identity: { id: ctx.clientId, username: ctx.clientId } }
        },
        authorizePublish: (client, topic) => {
          const d = authorizePublish(identity(client.clientId), topic)
          if (!d.allowed) counts.deniedPublishes += 1
          return d.allowed ? { allowed: true } : { allowed: false, reason: d.reason }
        },
        authorizeSubscribe: (client, filter) => {
          const d = authorizeSubscribe(identity(client.clientId), filter)
          if (!d.allowed) counts.deniedSubscribes += 1
          return d.allowed ? { allowed: true } : { allowed: false, reason: d.reason }
        },
        onPublish: (client, message) => {
          const text = Buffer.from(message.payload).toString()
          let json: any
          try {
            json = text === '' ? undefined : JSON.parse(text)
          } catch {
            json = undefined
          }
          const p = { clientId: client.clientId, message, topic: message.topic, json }
          published.push(p)
          return state.verdict(p)
        },
        onDisconnect: (client, reason) => {
          disconnects.push({ clientId: client.clientId, reason })
        },
      },
    },
    { sysIntervalSec: 0 },
  )
  let listener: Listener = await listenTcp(broker, { port: 0 })
  const port = listener.port
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return {
    broker,
    port,
    url: `mqtt://127.0.0.1:${String(port)}`,
    published,
    tokens,
    counts,
    disconnects,
    get connectVerdict() {
      return state.connectVerdict
    },
    set connectVerdict(v) {
      state.connectVerdict = v
    },
    get verdict() {
      return state.verdict
    },
    set verdict(v) {
      state.verdict = v
    },
    cloudPublish: (topic, body, properties) =>
      broker.publish({
        topic,
        payload: JSON.stringify(body),
        qos: 1,
        ...(properties === undefined ? {} : { properties }),
      }),
    stopListener: () => listener.close(),
    startListener: async () => {
      listener = await listenTcp(broker, { port })
    },
  }
}

/** A device client with fast test settings, closed after the test. */
export function deviceOf(
  t: TestContext,
  b: SdkBroker,
  deviceId: string,
  options: Partial<DeviceClientOptions> = {},
  deps: Parameters<typeof createDeviceClient>[1] = {},
): DeviceClient {
  const token = `tok-${deviceId}`
  b.tokens.set(deviceId, token)
  const client = createDeviceClient(
    {
      url: b.url,
      deviceId,
      credentials: { token },
      batchMaxDelayMs: 20,
      reconnect: { initialMs: 50, maxMs: 200, factor: 2 },
      connectTimeoutMs: 5_000,
      closeTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      ...options,
    },
    deps,
  )
  t.after(() => client.close())
  return client
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` until it holds, or fails after `ms`. */
export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(ms)} ms: ${what}`)
    await sleep(10)
  }
}

/** The telemetry records a device published, in order, flattened out of their batches. */
export function telemetryOf(b: SdkBroker, deviceId: string): any[] {
  return b.published
    .filter((p) => p.clientId === deviceId && p.topic.endsWith('/telemetry'))
    .flatMap((p) => (Array.isArray(p.json) ? p.json : [p.json]))
}
