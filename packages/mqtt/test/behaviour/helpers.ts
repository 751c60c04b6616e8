/**
 * Shared plumbing of the behaviour suite: a broker on port 0 closed after the test, MQTT.js
 * clients closed after the test, an inbox that waits for N messages, a raw mqtt-packet client for
 * what MQTT.js hides (delayed acks, packet ids, server DISCONNECT reason codes), and the Debian
 * mosquitto clients as child processes.
 *
 * Cleanup runs in reverse order of opening (clients, then the listener, then the broker), so a
 * test only says what it opens.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import type { TestContext } from 'node:test'
import mqtt, {
  type IClientOptions,
  type IClientSubscribeOptions,
  type IPublishPacket,
  type ISubscriptionMap,
  type MqttClient,
} from 'mqtt'
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet'
import {
  createBroker,
  listenTcp,
  type AuthenticateResult,
  type Broker,
  type BrokerHooks,
  type BrokerSettings,
  type ConnectContext,
  type Listener,
  type SessionStore,
} from '../../src/index.js'

/** Per-test timeout: every wait below is shorter, so a hang fails one test, not the run. */
export const testTimeoutMs = 15_000

// ---------------------------------------------------------------------------------------------
// Cleanup

type Cleanup = () => unknown
const cleanups = new WeakMap<TestContext, Cleanup[]>()

/** Runs `fn` after the test, before everything opened earlier in it (LIFO). */
export function defer(t: TestContext, fn: Cleanup): void {
  let stack = cleanups.get(t)
  if (stack === undefined) {
    const created: Cleanup[] = []
    stack = created
    cleanups.set(t, created)
    t.after(async () => {
      for (const cleanup of created.reverse()) {
        try {
          await cleanup()
        } catch {
          // Closing something a test already broke on purpose may fail; the next one must still run.
        }
      }
    })
  }
  stack.push(fn)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Rejects with `what` after `ms` unless `promise` settles first; the timer never outlives it. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${String(ms)} ms: ${what}`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `check` until it holds, or fails after `ms`. */
export async function eventually(
  check: () => boolean,
  ms: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) {
      const said = typeof what === 'string' ? what : what()
      throw new Error(`timed out after ${String(ms)} ms: ${said}`)
    }
    await sleep(10)
  }
}

// ---------------------------------------------------------------------------------------------
// Broker

/** Lets everyone in; the identity is the user name, or the client id without one. */
export function allowAll(context: ConnectContext): AuthenticateResult {
  return { ok: true, identity: { id: context.username ?? context.clientId } }
}

export interface TestBroker {
  readonly broker: Broker
  readonly listener: Listener
  readonly port: number
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string
}

export interface StartOptions {
  /** Hooks to use; `authenticate` defaults to {@link allowAll}. */
  readonly hooks?: Partial<BrokerHooks>
  readonly settings?: BrokerSettings
  readonly store?: SessionStore
}

/** A broker with a TCP listener on port 0, both closed after the test. */
export async function startBroker(t: TestContext, options: StartOptions = {}): Promise<TestBroker> {
  const hooks: BrokerHooks = { authenticate: allowAll, ...options.hooks }
  const broker = await createBroker(
    { hooks, ...(options.store === undefined ? {} : { store: options.store }) },
    { sysIntervalSec: 0, ...options.settings },
  )
  defer(t, () => broker.close())
  const listener = await listenTcp(broker, { port: 0 })
  defer(t, () => listener.close())
  return { broker, listener, port: listener.port, url: listener.url }
}

// ---------------------------------------------------------------------------------------------
// MQTT.js clients

export type ClientOptions = IClientOptions & { readonly protocolVersion: 4 | 5 }

function clientOptions(options: ClientOptions): IClientOptions {
  return { reconnectPeriod: 0, connectTimeout: 5_000, ...options }
}

/**
 * Connects an MQTT.js client (closed after the test). This is `mqtt.connectAsync` with one
 * difference: it also fails when the broker closes the socket without a CONNACK, where
 * connectAsync would wait forever.
 */
export async function connect(
  t: TestContext,
  url: string,
  options: ClientOptions,
): Promise<MqttClient> {
  return (await connectAck(t, url, options)).client
}

/** {@link connect}, with the CONNACK (session present, MQTT 5 properties). */
export async function connectAck(
  t: TestContext,
  url: string,
  options: ClientOptions,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const outcome = await tryConnect(url, options)
  if (outcome.client === undefined || outcome.connack === undefined) {
    throw new Error(
      `connect to ${url} failed: ${outcome.error?.message ?? 'closed without CONNACK'}`,
    )
  }
  const client = outcome.client
  defer(t, () => client.endAsync(true))
  return { client, connack: outcome.connack }
}

export interface ConnectOutcome {
  /** Connected; the caller closes it. */
  readonly client?: MqttClient
  /** The CONNACK refusal (`code` is the reason / return code) or a transport error. */
  readonly error?: Error & { code?: number | string }
  /** The socket closed without a CONNACK and without an error. */
  readonly closed?: boolean
  readonly connack?: IConnackPacket
}

/** Tries to connect; never throws. A refused client is already closed. */
export function tryConnect(url: string, options: ClientOptions): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, clientOptions(options))
    // Messages can arrive in the same read as the CONNACK: record them from the start.
    inboxOf(client)
    let connack: IConnackPacket | undefined
    const onPacket = (packet: Packet): void => {
      if (packet.cmd === 'connack') connack = packet
    }
    const done = (outcome: ConnectOutcome): void => {
      client.off('connect', onConnect)
      client.off('error', onError)
      client.off('close', onClose)
      client.off('packetreceive', onPacket)
      // A refused client gets one error and is done; later stray errors must not crash the test.
      client.on('error', () => undefined)
      if (outcome.client === undefined) client.end(true)
      resolve({ ...outcome, ...(connack === undefined ? {} : { connack }) })
    }
    const onConnect = (): void => done({ client })
    const onError = (error: Error): void => done({ error })
    const onClose = (): void => done({ closed: true })
    client.on('packetreceive', onPacket)
    client.once('connect', onConnect)
    client.once('error', onError)
    client.once('close', onClose)
  })
}

export interface Received {
  readonly topic: string
  readonly payload: string
  readonly packet: IPublishPacket
}

const inboxes = new WeakMap<MqttClient, Inbox>()

/** The inbox of a client: every message it received since it was created. */
export function inboxOf(client: MqttClient): Inbox {
  let inbox = inboxes.get(client)
  if (inbox === undefined) {
    inbox = new Inbox(client)
    inboxes.set(client, inbox)
  }
  return inbox
}

/** Records every message a client receives; waits for counts with a timeout. Get one with {@link inboxOf}. */
export class Inbox {
  readonly messages: Received[] = []
  /**
   * PUBLISH packets in the order they came off the wire. MQTT.js emits a QoS 2 message only on
   * PUBREL, so `messages` interleaves QoS levels differently from what the broker sent.
   */
  readonly arrivals: IPublishPacket[] = []
  private readonly waiters = new Set<() => void>()

  constructor(client: MqttClient) {
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish') this.arrivals.push(packet)
    })
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString(), packet })
      for (const waiter of this.waiters) waiter()
    })
  }

  get payloads(): string[] {
    return this.messages.map((m) => m.payload)
  }

  /** Resolves with all messages once there are at least `count`; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 3_000): Promise<Received[]> {
    if (this.messages.length >= count) return this.messages
    let waiter: (() => void) | undefined
    try {
      await within(
        new Promise<void>((resolve) => {
          waiter = () => {
            if (this.messages.length >= count) resolve()
          }
          this.waiters.add(waiter)
        }),
        timeoutMs,
        `waiting for ${String(count)} messages, got ${String(this.messages.length)}`,
      )
    } finally {
      if (waiter !== undefined) this.waiters.delete(waiter)
    }
    return this.messages
  }

  /** Waits `ms` and returns what arrived: for "nothing (more) arrives" assertions. */
  async settle(ms = 300): Promise<Received[]> {
    await sleep(ms)
    return this.messages
  }
}

/** Subscribes and returns the SUBACK codes, refusals included (MQTT.js rejects on any refusal). */
export async function subscribeCodes(
  client: MqttClient,
  topics: string | string[] | ISubscriptionMap,
  options?: IClientSubscribeOptions,
): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(topics, options ?? { qos: 0 })
    return granted.map((g) => g.qos)
  } catch (err) {
    const packet = (err as { packet?: { granted?: unknown } }).packet
    if (packet !== undefined && Array.isArray(packet.granted))
      return packet.granted.map((g: unknown) => (typeof g === 'number' ? g : -1))
    throw err
  }
}

/** Resolves with the first argument of the client's next `event`; rejects after `timeoutMs`. */
export async function nextEvent<T = unknown>(
  client: MqttClient,
  event: 'disconnect' | 'close' | 'error' | 'connect',
  timeoutMs = 3_000,
): Promise<T> {
  // MqttClient is a Node EventEmitter whose typed facade `once` does not accept.
  const emitter = client as unknown as NodeJS.EventEmitter
  const [value] = (await once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) })) as T[]
  return value as T
}

/** Resolves when the client's connection closes (MQTT.js `close`); rejects after `timeoutMs`. */
export async function closedWithin(client: MqttClient, timeoutMs = 3_000): Promise<void> {
  if (!client.connected && client.disconnected) return
  await nextEvent(client, 'close', timeoutMs)
}

/** `n` payloads `prefix0`, `prefix1`, … */
export function numbered(n: number, prefix = 'm'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`)
}

// ---------------------------------------------------------------------------------------------
// A raw client: bytes on a socket, packets in and out with mqtt-packet

type PacketOf<C extends Packet['cmd']> = Extract<Packet, { cmd: C }>

/**
 * A client without any client logic: it sends the packets it is told to, and records every
 * packet it receives, so a test can withhold acknowledgements, reuse packet ids, or see the
 * exact DISCONNECT a broker sends.
 */
export class RawClient {
  readonly socket: net.Socket
  readonly version: 3 | 4 | 5
  /** Received and not yet taken by {@link next} / {@link take}. */
  private readonly pending: Packet[] = []
  /** Everything ever received, in order. */
  readonly received: Packet[] = []
  private readonly waiters = new Set<() => void>()
  readonly closed: Promise<void>
  isClosed = false

  constructor(socket: net.Socket, version: 3 | 4 | 5) {
    this.socket = socket
    this.version = version
    const parser = mqttPacket.parser({ protocolVersion: version })
    parser.on('packet', (packet: Packet) => {
      this.received.push(packet)
      this.pending.push(packet)
      for (const waiter of this.waiters) waiter()
    })
    parser.on('error', () => socket.destroy())
    socket.on('data', (chunk: Buffer) => parser.parse(chunk))
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        for (const waiter of this.waiters) waiter()
        resolve()
      })
    })
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.version }))
  }

  publish(
    topic: string,
    payload: string | Buffer,
    qos: 0 | 1 | 2,
    messageId?: number,
    properties?: IPublishPacket['properties'],
  ): void {
    this.send({
      cmd: 'publish',
      topic,
      payload,
      qos,
      retain: false,
      dup: false,
      ...(messageId === undefined ? {} : { messageId }),
      ...(properties === undefined ? {} : { properties }),
    })
  }

  /** Takes the first received packet of type `cmd` not taken yet, waiting up to `timeoutMs`. */
  async next<C extends Packet['cmd']>(cmd: C, timeoutMs = 3_000): Promise<PacketOf<C>> {
    const find = (): PacketOf<C> | undefined => {
      const at = this.pending.findIndex((p) => p.cmd === cmd)
      if (at === -1) return undefined
      return this.pending.splice(at, 1)[0] as PacketOf<C>
    }
    const found = find()
    if (found !== undefined) return found
    let waiter: (() => void) | undefined
    try {
      return await within(
        new Promise<PacketOf<C>>((resolve, reject) => {
          const self = (): void => {
            const packet = find()
            // Leave at once: another packet of the same read must not be taken by a settled wait.
            if (packet !== undefined) {
              this.waiters.delete(self)
              resolve(packet)
            } else if (this.isClosed) {
              this.waiters.delete(self)
              reject(new Error(`connection closed while waiting for ${cmd}`))
            }
          }
          waiter = self
          this.waiters.add(waiter)
          waiter()
        }),
        timeoutMs,
        `waiting for ${cmd.toUpperCase()}`,
      )
    } finally {
      if (waiter !== undefined) this.waiters.delete(waiter)
    }
  }

  /** Takes every received packet of type `cmd` not taken yet, without waiting. */
  take<C extends Packet['cmd']>(cmd: C): PacketOf<C>[] {
    const taken: PacketOf<C>[] = []
    for (let i = 0; i < this.pending.length;) {
      const packet = this.pending[i]
      if (packet?.cmd === cmd) {
        taken.push(packet as PacketOf<C>)
        this.pending.splice(i, 1)
      } else i++
    }
    return taken
  }

  /** Every received packet of type `cmd`, taken or not. */
  all<C extends Packet['cmd']>(cmd: C): PacketOf<C>[] {
    return this.received.filter((p): p is PacketOf<C> => p.cmd === cmd)
  }

  async waitClosed(timeoutMs = 3_000): Promise<void> {
    await within(this.closed, timeoutMs, 'waiting for the broker to close the connection')
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** Opens a raw TCP connection (destroyed after the test); sends nothing yet. */
export async function rawSocket(
  t: TestContext,
  port: number,
  version: 3 | 4 | 5,
): Promise<RawClient> {
  const socket = net.connect({ port, host: '127.0.0.1' })
  defer(t, () => socket.destroy())
  await once(socket, 'connect')
  return new RawClient(socket, version)
}

export type RawConnectOptions = Partial<Omit<IConnectPacket, 'cmd'>> & {
  readonly protocolVersion: 4 | 5
}

/** Connects a raw client and returns it with the CONNACK (whatever its code). */
export async function rawConnect(
  t: TestContext,
  port: number,
  options: RawConnectOptions,
): Promise<{ client: RawClient; connack: IConnackPacket }> {
  const client = await rawSocket(t, port, options.protocolVersion)
  client.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    clientId: `raw-${String(Math.random()).slice(2, 10)}`,
    clean: true,
    keepalive: 0,
    ...options,
  })
  const connack = await client.next('connack')
  return { client, connack }
}

// ---------------------------------------------------------------------------------------------
// mosquitto_pub / mosquitto_sub

export interface Spawned {
  readonly child: ChildProcess
  /** Everything written to stdout so far. */
  stdout: string
  stderr: string
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs a mosquitto client; killed after the test if still running. */
export function spawnTool(
  t: TestContext,
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  args: readonly string[],
  input?: string,
): Spawned {
  const child = spawn(`/usr/bin/${tool}`, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const spawned: Spawned = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => {
      // 'close', not 'exit': only then has all of stdout been read.
      child.once('close', (code, signal) => resolve({ code, signal }))
    }),
  }
  child.stdout.on('data', (chunk: Buffer) => (spawned.stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (spawned.stderr += chunk.toString()))
  if (input !== undefined) child.stdin.end(input)
  else child.stdin.end()
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return spawned
}

/** Runs a mosquitto client to its end; fails with its stderr when it exits non-zero or hangs. */
export async function runTool(
  t: TestContext,
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<Spawned> {
  const spawned = spawnTool(t, tool, args, options.input)
  const { code } = await within(
    spawned.exited,
    options.timeoutMs ?? 5_000,
    `${tool} ${args.join(' ')} did not exit; stderr: ${spawned.stderr}`,
  )
  if (code !== 0)
    throw new Error(`${tool} ${args.join(' ')} exited with ${String(code)}: ${spawned.stderr}`)
  return spawned
}
