import mqtt, {
  type IClientOptions,
  type IConnackPacket,
  type IDisconnectPacket,
  type IPublishPacket,
  type MqttClient,
  type Packet,
} from 'mqtt'
import type { Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { backoffDelayMs, type BackoffOptions } from '../shared/backoff.js'
import { classifyConnectRefusal, describeReasonCode } from './reason-codes.js'

/** Where a device connection stands. `closed` is final. */
export type ConnectionState =
  | { readonly status: 'connecting'; readonly attempt: number }
  | { readonly status: 'online'; readonly sessionPresent: boolean }
  | {
      readonly status: 'offline'
      /** Why the last connection ended or the last attempt failed. */
      readonly reason: string
      /** When the next attempt starts. */
      readonly retryInMs: number
      /** Failed attempts in a row, this one included. */
      readonly attempt: number
    }
  | { readonly status: 'closed'; readonly reason: string; readonly error?: DeviceError }

/** How the broker acknowledged a QoS 1 message: 0 (or 0x10) accepted, ≥ 0x80 refused. */
export interface PublishResult {
  readonly reasonCode: number
  readonly reason?: string
}

/** What a connection tells its owner. */
export interface ConnectionEvents {
  state(state: ConnectionState): void
  online(sessionPresent: boolean): void
  message(topic: string, payload: Buffer, packet: IPublishPacket): void
  warning(error: DeviceError): void
}

export interface ConnectionDeps {
  readonly clock: () => number
  readonly random: () => number
  readonly log: Logger
  readonly backoff: BackoffOptions
  /** A connection that lasted this long resets the backoff. */
  readonly stableAfterMs: number
  readonly protocolVersion: 4 | 5
  /** Filters to subscribe (QoS 1) on every connect. */
  readonly subscriptions: readonly string[]
}

/**
 * One MQTT.js client and its lifecycle: connect, reconnect with jittered exponential backoff
 * (reset after a stable connection), stop for good on refusals that retrying cannot fix, and
 * subscribe on every connect. MQTT.js keeps unacknowledged QoS 1 messages across reconnects and
 * resends them with their packet ids, as a resumed session requires [MQTT-4.4.0-1].
 */
export class DeviceConnection {
  readonly #mqtt: MqttClient
  readonly #deps: ConnectionDeps
  readonly #events: ConnectionEvents
  #state: ConnectionState = { status: 'connecting', attempt: 1 }
  #failures = 0
  #onlineSince: number | undefined
  #timer: NodeJS.Timeout | undefined
  #refusal: number | undefined
  #why: string | undefined
  readonly #pending = new Set<(err: Error) => void>()
  #closing: Promise<void> | undefined

  constructor(options: IClientOptions, deps: ConnectionDeps, events: ConnectionEvents) {
    this.#deps = deps
    this.#events = events
    this.#mqtt = mqtt.connect(options)
    this.#mqtt.on('connect', (packet) => this.#onConnect(packet))
    this.#mqtt.on('error', (err) => this.#onError(err))
    this.#mqtt.on('disconnect', (packet) => this.#onServerDisconnect(packet))
    this.#mqtt.on('close', () => this.#onClose())
    this.#mqtt.on('message', (topic, payload, packet) => events.message(topic, payload, packet))
  }

  get state(): ConnectionState {
    return this.#state
  }

  get isOnline(): boolean {
    return this.#state.status === 'online'
  }

  /** Starts the first connect attempt. */
  start(): void {
    this.#attempt()
  }

  /**
   * Publishes; resolves with the broker's acknowledgement (QoS 1) or once written (QoS 0). While
   * offline, MQTT.js holds a QoS 1 message and sends it after the next connect. Rejects only when
   * the connection is closed first.
   */
  publish(
    topic: string,
    payload: Uint8Array,
    options: { qos: 0 | 1; properties?: IPublishPacket['properties'] },
  ): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      if (this.#closing !== undefined || this.#state.status === 'closed') {
        reject(closedError(this.#state))
        return
      }
      this.#pending.add(reject)
      const opts = options.properties === undefined ? { qos: options.qos } : options
      this.#mqtt.publish(topic, Buffer.from(payload), opts, (error, packet) => {
        this.#pending.delete(reject)
        const ack = ackOf(packet)
        // MQTT.js passes null, not undefined, on success; its types say otherwise.
        const err = error as Error | null | undefined
        if (err === undefined || err === null) resolve({ reasonCode: ack?.reasonCode ?? 0 })
        else if (ack !== undefined) resolve(ack)
        else reject(err)
      })
    })
  }

  /**
   * Subscribes (QoS 1) beyond the standard subscriptions, e.g. `certificate/response` for a
   * renewal. Offline, MQTT.js sends it after the next connect. Rejects on a refusal.
   */
  subscribe(filter: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#mqtt.subscribe(filter, { qos: 1 }, (_err, granted) => {
        const code = granted?.[0]?.qos ?? 0x80
        if ((code & 0x80) === 0) resolve()
        else reject(subscribeRefused(filter, code))
      })
    })
  }

  /** Removes a subscription made with `subscribe`; never rejects. */
  unsubscribe(filter: string): Promise<void> {
    return new Promise((resolve) => {
      this.#mqtt.unsubscribe(filter, () => resolve())
    })
  }

  /** Stops reconnecting and closes: a DISCONNECT (normal; the session is kept) when `graceful`. */
  close(graceful: boolean, timeoutMs: number): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer)
      if (this.#state.status !== 'closed') {
        this.#setState({ status: 'closed', reason: 'closed by the application' })
      }
      await endClient(this.#mqtt, graceful && this.#mqtt.connected, timeoutMs)
      const err = closedError(this.#state)
      for (const reject of [...this.#pending]) reject(err)
      this.#pending.clear()
    })()
    return this.#closing
  }

  #attempt(): void {
    this.#timer = undefined
    this.#refusal = undefined
    this.#why = undefined
    this.#setState({ status: 'connecting', attempt: this.#failures + 1 })
    this.#mqtt.connect()
  }

  #onConnect(packet: IConnackPacket): void {
    this.#onlineSince = this.#deps.clock()
    const sessionPresent = packet.sessionPresent
    this.#deps.log.info({ sessionPresent }, 'online')
    this.#setState({ status: 'online', sessionPresent })
    this.#subscribe()
    this.#events.online(sessionPresent)
  }

  #subscribe(): void {
    const filters = this.#deps.subscriptions
    if (filters.length === 0) return
    this.#mqtt.subscribe(
      Object.fromEntries(filters.map((f) => [f, { qos: 1 }])),
      (_err, granted) => {
        for (const grant of granted ?? []) {
          if ((grant.qos & 0x80) !== 0)
            this.#events.warning(subscribeRefused(grant.topic, grant.qos))
        }
      },
    )
  }

  #onError(err: Error): void {
    const code = (err as { code?: unknown }).code
    if (
      !this.#mqtt.connected &&
      typeof code === 'number' &&
      err.message.startsWith('Connection refused')
    ) {
      this.#refusal = code
    } else {
      this.#why ??= err.message
    }
    this.#deps.log.debug({ err }, 'mqtt client error')
  }

  #onServerDisconnect(packet: IDisconnectPacket): void {
    const why = packet.properties?.reasonString
    this.#why = `the broker disconnected: ${describeReasonCode(packet.reasonCode ?? 0)}${why === undefined ? '' : ` (${why})`}`
  }

  #onClose(): void {
    if (this.#closing !== undefined || this.#state.status === 'closed') return
    const wasOnline = this.#onlineSince !== undefined
    let reason =
      this.#why ?? (wasOnline ? 'the connection was lost' : 'the connection closed before CONNACK')
    if (this.#refusal !== undefined) {
      const refusal = classifyConnectRefusal(this.#refusal, this.#deps.protocolVersion)
      if (refusal.fatal) {
        this.#fail(
          new DeviceError(
            'DEVICE_CONNECT_REFUSED',
            `the broker refused the connection: ${refusal.description}`,
            {
              hint: refusal.hint,
              details: { reasonCode: this.#refusal },
            },
          ),
        )
        return
      }
      reason = `the broker refused the connection: ${refusal.description}`
    }
    const now = this.#deps.clock()
    if (this.#onlineSince !== undefined && now - this.#onlineSince >= this.#deps.stableAfterMs)
      this.#failures = 0
    this.#onlineSince = undefined
    const retryInMs = backoffDelayMs(this.#failures, this.#deps.backoff, this.#deps.random)
    this.#failures += 1
    this.#deps.log.warn({ reason, retryInMs, attempt: this.#failures }, 'offline')
    this.#setState({ status: 'offline', reason, retryInMs, attempt: this.#failures })
    // Not unref'd on purpose: a device process waiting to reconnect must stay alive.
    this.#timer = setTimeout(() => this.#attempt(), retryInMs)
  }

  #fail(error: DeviceError): void {
    this.#deps.log.error({ err: error }, 'connection refused for good')
    this.#setState({ status: 'closed', reason: error.message, error })
    this.#mqtt.end(true)
    for (const reject of [...this.#pending]) reject(error)
    this.#pending.clear()
  }

  #setState(state: ConnectionState): void {
    this.#state = state
    this.#events.state(state)
  }
}

function subscribeRefused(filter: string, code: number): DeviceError {
  return new DeviceError(
    'DEVICE_SUBSCRIBE_REFUSED',
    `the broker refused the subscription ${filter} (${describeReasonCode(code)})`,
    { hint: 'Check the device id: a device may subscribe only inside its own namespace.' },
  )
}

function ackOf(packet: Packet | undefined): PublishResult | undefined {
  if (packet?.cmd !== 'puback') return undefined
  const reason = packet.properties?.reasonString
  return reason === undefined
    ? { reasonCode: packet.reasonCode ?? 0 }
    : { reasonCode: packet.reasonCode ?? 0, reason }
}

/** The error for an operation on a closed connection: the fatal refusal that closed it, if one did. */
export function closedError(state: ConnectionState): DeviceError {
  if (state.status === 'closed' && state.error !== undefined) return state.error
  return new DeviceError('DEVICE_CLIENT_CLOSED', 'the device client is closed', {
    hint: 'Create a new client; close() is final.',
  })
}

/** Ends MQTT.js: DISCONNECT then close when `graceful`, else drop the socket; never waits longer than `timeoutMs`. */
export function endClient(client: MqttClient, graceful: boolean, timeoutMs: number): Promise<void> {
  const force = !graceful || Object.keys(client.outgoing).length > 0
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        client.stream.destroy()
        resolve()
      },
      Math.max(timeoutMs, 100),
    )
    timer.unref()
    client.end(force, { reasonCode: 0 }, () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
