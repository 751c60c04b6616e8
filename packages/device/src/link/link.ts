import type net from 'node:net'
import mqttPacket, {
  type IConnackPacket,
  type IPublishPacket,
  type ISubscription,
  type Packet,
} from 'mqtt-packet'
import { openSocket, type SocketOwner } from './link-socket.js'
import type {
  LinkAuth,
  LinkClose,
  LinkCloseCause,
  LinkConfig,
  LinkHandler,
  LinkRef,
} from './link-types.js'
import { parseFrame, readFrames, type FrameSink } from './packet-reader.js'
import type { Timed } from './scheduler.js'

type LinkState = 'idle' | 'connecting' | 'connected' | 'closing'

/** The DUP flag of a PUBLISH fixed header (MQTT 3.3.1.1). */
const dupFlag = 0x08
/** Time a clean close waits for the broker to close its side before the socket is destroyed. */
const closeGraceMs = 2_000

/** Publish properties a link passes through (MQTT 5). */
export type PublishProperties = IPublishPacket['properties']

/**
 * One MQTT connection of one simulated device: a thin client on `mqtt-packet` whose state is a
 * few fields. Timers (connect timeout, keep-alive, delayed writes, close grace) are one entry in
 * the fleet's shared scheduler; events go to one {@link LinkHandler}; the in-flight map exists
 * only once something is in flight and holds each QoS 1 PUBLISH as the encoded bytes that are
 * resent (with DUP) after a reconnect.
 *
 * @example
 * const link = new Link('pump-7', { kind: 'none' }, config, handler)
 * link.connect() // handler.onLinkUp(...) once the CONNACK arrives
 */
export class Link implements Timed, FrameSink, SocketOwner, LinkRef {
  readonly clientId: string
  readonly #auth: LinkAuth
  readonly #config: LinkConfig
  readonly #handler: LinkHandler
  #socket: net.Socket | null = null
  #state: LinkState = 'idle'
  pending: Buffer | null = null
  #inflight: Map<number, Buffer> | null = null
  /** Incoming QoS 2 ids between PUBREC and PUBREL (only if a broker sends QoS 2 anyway). */
  #qos2: Set<number> | null = null
  #nextId = 0
  #receiveMaximum = 0
  #keepAliveMs = 0
  #lastSentAt = 0
  #pingSentAt = 0
  #deadline = 0
  #close: { cause: LinkCloseCause; reasonCode?: number; code?: string; message?: string } | null =
    null
  #wasConnected = false
  #partitionedUntil = 0
  #delayMs = 0
  #delayUntil = 0
  #delayed: { at: number; buf: Buffer }[] | null = null
  dueAt = 0
  heapIndex = -1

  constructor(clientId: string, auth: LinkAuth, config: LinkConfig, handler: LinkHandler) {
    this.clientId = clientId
    this.#auth = auth
    this.#config = config
    this.#handler = handler
  }

  get isConnected(): boolean {
    return this.#state === 'connected'
  }

  /** True from `connect()` until the handler was told the link is down. */
  get isOpen(): boolean {
    return this.#state !== 'idle'
  }

  get inflightCount(): number {
    return this.#inflight?.size ?? 0
  }

  /** Room for more QoS 1 messages now (the broker's Receive Maximum and ours). */
  get canPublish(): boolean {
    return this.#state === 'connected' && this.inflightCount < this.#receiveMaximum
  }

  /**
   * Opens the socket and sends CONNECT. False (and nothing happens) while a connection is open or
   * closing, or while the link is partitioned; otherwise the handler hears `onLinkUp` or, once,
   * `onLinkDown`.
   */
  connect(): boolean {
    const now = this.#config.scheduler.now()
    if (this.#state !== 'idle' || now < this.#partitionedUntil) return false
    this.#close = null
    this.#wasConnected = false
    this.#pingSentAt = 0
    this.#state = 'connecting'
    try {
      this.#socket = openSocket(this.#config, this.#auth, this)
    } catch (err) {
      // tls.connect throws at once on a key or certificate it cannot read.
      this.#state = 'idle'
      throw err
    }
    this.#deadline = now + this.#config.connectTimeoutMs
    this.#write(mqttPacket.generate(this.#connectPacket(), this.#generateOptions()), now)
    this.#reschedule(now)
    return true
  }

  /** Publishes; returns the packet id (QoS 1), 0 (QoS 0 written), or −1 (not connected, window full). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, properties?: PublishProperties): number {
    if (this.#state !== 'connected') return -1
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic,
      payload,
      qos,
      retain: false,
      dup: false,
    }
    if (properties !== undefined && this.#config.protocolVersion === 5)
      packet.properties = properties
    const now = this.#config.scheduler.now()
    if (qos === 0) {
      this.#write(mqttPacket.generate(packet, this.#generateOptions()), now)
      return 0
    }
    if (this.inflightCount >= this.#receiveMaximum) return -1
    const id = this.#allocateId()
    packet.messageId = id
    const bytes = mqttPacket.generate(packet, this.#generateOptions())
    ;(this.#inflight ??= new Map()).set(id, bytes)
    this.#write(bytes, now)
    return id
  }

  /** Sends SUBSCRIBE; returns its packet id, or −1 when not connected. */
  subscribe(subscriptions: ISubscription[]): number {
    if (this.#state !== 'connected') return -1
    const id = this.#allocateId()
    const packet: Packet = { cmd: 'subscribe', messageId: id, subscriptions }
    this.#write(mqttPacket.generate(packet, this.#generateOptions()), this.#config.scheduler.now())
    return id
  }

  /** Clean close: DISCONNECT (session kept), then the socket ends. False when not connected. */
  disconnect(reasonCode = 0): boolean {
    if (this.#state === 'connecting') return this.#abort('local', 'closed while connecting')
    if (this.#state !== 'connected' || this.#socket === null) return false
    const now = this.#config.scheduler.now()
    // Anything held back by a delay fault goes first: the DISCONNECT must be last.
    this.#flushDelayed(Number.POSITIVE_INFINITY)
    const packet: Packet =
      this.#config.protocolVersion === 5 ? { cmd: 'disconnect', reasonCode } : { cmd: 'disconnect' }
    this.#send(mqttPacket.generate(packet, this.#generateOptions()), now)
    this.#close = { cause: 'local' }
    this.#state = 'closing'
    this.#socket.end()
    this.#deadline = now + closeGraceMs
    this.#reschedule(now)
    return true
  }

  /** Abrupt close: the socket is destroyed, no DISCONNECT (the broker publishes any will). */
  drop(message = 'dropped'): boolean {
    return this.#abort('dropped', message)
  }

  /** Refuses `connect()` until `untilMs` and drops an open connection now. */
  partition(untilMs: number): void {
    this.#partitionedUntil = Math.max(this.#partitionedUntil, untilMs)
    this.drop('partitioned')
  }

  /** Every write waits `ms` more until `untilMs` (order kept). */
  delayWrites(ms: number, untilMs: number): void {
    this.#delayMs = ms
    this.#delayUntil = untilMs
  }

  /** Forgets the in-flight messages (RAM lost in a power cut); returns how many. */
  clearInflight(): number {
    const count = this.inflightCount
    this.#inflight = null
    return count
  }

  fire(now: number): void {
    if (this.#delayed !== null) this.#flushDelayed(now)
    if (this.#state === 'connecting' && now >= this.#deadline) {
      this.#abort(
        'connect-timeout',
        `no CONNACK within ${String(this.#config.connectTimeoutMs)} ms`,
      )
      return
    }
    if (this.#state === 'closing' && now >= this.#deadline) {
      this.#socket?.destroy()
      return
    }
    if (this.#state === 'connected' && this.#keepAliveMs > 0) {
      const pingTimeoutMs = Math.min(30_000, Math.max(1_000, this.#keepAliveMs / 2))
      if (this.#pingSentAt > 0 && now - this.#pingSentAt >= pingTimeoutMs) {
        this.#abort('keepalive-timeout', `no PINGRESP within ${String(pingTimeoutMs)} ms`)
        return
      }
      if (this.#pingSentAt === 0 && now - this.#lastSentAt >= this.#keepAliveMs) {
        this.#write(mqttPacket.generate({ cmd: 'pingreq' }), now)
        this.#pingSentAt = now
      }
    }
    this.#reschedule(now)
  }

  // --- socket events -------------------------------------------------------------------------

  handleData(chunk: Buffer): void {
    readFrames(this, chunk, this.#config.maxIncomingBytes)
  }

  onFrame(frame: Buffer): boolean {
    const socket = this.#socket
    const result = parseFrame(frame, this.#config.protocolVersion)
    if ('error' in result) {
      this.#abort('protocol-error', result.error.message)
      return false
    }
    this.#handlePacket(result.packet)
    return this.#socket === socket && this.#state !== 'closing'
  }

  onFrameError(message: string): void {
    this.#abort('protocol-error', message)
  }

  handleSocketError(err: NodeJS.ErrnoException): void {
    this.#close ??= { cause: 'socket', code: err.code ?? 'ESOCKET', message: err.message }
  }

  handleSocketClose(socket: net.Socket): void {
    if (socket !== this.#socket) return
    this.#socket = null
    this.pending = null
    this.#delayed = null
    this.#state = 'idle'
    this.#pingSentAt = 0
    this.#config.scheduler.cancel(this)
    const c = this.#close ?? { cause: 'socket', message: 'the broker closed the connection' }
    this.#close = null
    const close: LinkClose = { ...c, wasConnected: this.#wasConnected }
    this.#handler.onLinkDown(this, close)
  }

  // --- packets -------------------------------------------------------------------------------

  #handlePacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        return this.#onConnack(packet)
      case 'publish':
        return this.#onPublish(packet)
      case 'puback': {
        const id = packet.messageId ?? 0
        const inflight = this.#inflight
        if (inflight?.delete(id) === true) {
          // An empty map still holds its hash table: most devices have nothing in flight.
          if (inflight.size === 0) this.#inflight = null
          this.#handler.onPuback(this, id, packet.reasonCode ?? 0, packet.properties?.reasonString)
        }
        return
      }
      case 'pubrel': {
        const id = packet.messageId ?? 0
        this.#qos2?.delete(id)
        this.#write(this.#ack('pubcomp', id), this.#config.scheduler.now())
        return
      }
      case 'suback':
        this.#handler.onSuback(this, packet.messageId ?? 0, packet.granted as number[])
        return
      case 'pingresp':
        this.#pingSentAt = 0
        return
      case 'disconnect':
        this.#abort(
          'server-disconnect',
          packet.properties?.reasonString ?? 'the broker sent DISCONNECT',
          packet.reasonCode ?? 0,
        )
        return
      case 'unsuback':
      case 'pubrec':
      case 'pubcomp':
        return // we never unsubscribe or publish at QoS 2: nothing to complete
      default:
        this.#abort('protocol-error', `unexpected ${packet.cmd.toUpperCase()} from the broker`)
    }
  }

  #onConnack(packet: IConnackPacket): void {
    if (this.#state !== 'connecting') {
      this.#abort('protocol-error', 'a second CONNACK')
      return
    }
    const code =
      this.#config.protocolVersion === 5 ? (packet.reasonCode ?? 0) : (packet.returnCode ?? 0)
    if (code !== 0) {
      const reason = packet.properties?.reasonString
      this.#abort('connack', reason ?? 'the broker refused the connection', code)
      return
    }
    const now = this.#config.scheduler.now()
    const props = packet.properties
    this.#state = 'connected'
    this.#wasConnected = true
    this.#receiveMaximum = Math.min(this.#config.maxInflight, props?.receiveMaximum ?? 65_535)
    this.#keepAliveMs = (props?.serverKeepAlive ?? this.#config.keepAliveS) * 1000
    // [MQTT-4.4.0-1] resend unacknowledged PUBLISH packets, with DUP set [MQTT-3.3.1-1].
    if (this.#inflight !== null) {
      for (const bytes of this.#inflight.values()) {
        bytes[0] = (bytes[0] as number) | dupFlag
        this.#write(bytes, now)
      }
    }
    this.#handler.onLinkUp(this, packet)
    // The handler may have closed the link again.
    if (this.isConnected) this.#reschedule(now)
  }

  #onPublish(packet: IPublishPacket): void {
    const id = packet.messageId ?? 0
    if (packet.qos === 2) {
      const seen = this.#qos2?.has(id) === true
      if (!seen) {
        ;(this.#qos2 ??= new Set()).add(id)
        this.#handler.onMessage(this, packet)
      }
      if (this.#state === 'connected')
        this.#write(this.#ack('pubrec', id), this.#config.scheduler.now())
      return
    }
    this.#handler.onMessage(this, packet)
    if (packet.qos === 1 && this.#state === 'connected')
      this.#write(this.#ack('puback', id), this.#config.scheduler.now())
  }

  #ack(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number): Buffer {
    const packet = { cmd, messageId } as Packet
    return mqttPacket.generate(packet, this.#generateOptions())
  }

  #connectPacket(): Packet {
    const c = this.#config
    const auth = this.#auth
    return {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: c.protocolVersion,
      clientId: this.clientId,
      clean: c.cleanStart,
      keepalive: c.keepAliveS,
      ...(auth.kind === 'password'
        ? { username: auth.username, password: Buffer.from(auth.password) }
        : {}),
      ...(c.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: c.sessionExpiryS,
              maximumPacketSize: c.maxIncomingBytes,
            },
          }
        : {}),
    }
  }

  #generateOptions(): { protocolVersion: 4 | 5 } {
    return this.#config.protocolVersion === 5 ? v5 : v4
  }

  // --- writing -------------------------------------------------------------------------------

  #write(bytes: Buffer, now: number): void {
    if (this.#delayed !== null || (this.#delayMs > 0 && now < this.#delayUntil)) {
      const at = now + this.#delayMs
      ;(this.#delayed ??= []).push({ at, buf: bytes })
      if (this.heapIndex < 0 || at < this.dueAt) this.#config.scheduler.schedule(this, at)
      return
    }
    this.#send(bytes, now)
  }

  #send(bytes: Buffer, now: number): void {
    const socket = this.#socket
    if (socket === null) return
    socket.write(bytes)
    this.#lastSentAt = now
    if (socket.writableLength > this.#config.maxBufferedBytes) {
      this.#abort('stalled', `${String(socket.writableLength)} bytes unread by the broker`)
    }
  }

  #flushDelayed(now: number): void {
    const queue = this.#delayed
    if (queue === null) return
    let taken = 0
    while (taken < queue.length && (queue[taken] as { at: number }).at <= now) {
      this.#send((queue[taken] as { buf: Buffer }).buf, Math.min(now, this.#config.scheduler.now()))
      taken++
    }
    if (taken === queue.length) this.#delayed = null
    else queue.splice(0, taken)
  }

  #allocateId(): number {
    for (;;) {
      this.#nextId = this.#nextId >= 65_535 ? 1 : this.#nextId + 1
      if (this.#inflight?.has(this.#nextId) !== true) return this.#nextId
    }
  }

  #abort(cause: LinkCloseCause, message: string, reasonCode?: number): boolean {
    const socket = this.#socket
    if (socket === null) return false
    this.#close ??= { cause, message, ...(reasonCode === undefined ? {} : { reasonCode }) }
    this.#state = 'closing'
    socket.destroy()
    return true
  }

  #reschedule(now: number): void {
    let at = Number.POSITIVE_INFINITY
    const first = this.#delayed?.[0]
    if (first !== undefined) at = first.at
    if (this.#state === 'connecting' || this.#state === 'closing') at = Math.min(at, this.#deadline)
    if (this.#state === 'connected' && this.#keepAliveMs > 0) {
      const pingTimeoutMs = Math.min(30_000, Math.max(1_000, this.#keepAliveMs / 2))
      at = Math.min(
        at,
        this.#pingSentAt > 0
          ? this.#pingSentAt + pingTimeoutMs
          : Math.max(now, this.#lastSentAt + this.#keepAliveMs),
      )
    }
    if (at === Number.POSITIVE_INFINITY) this.#config.scheduler.cancel(this)
    else this.#config.scheduler.schedule(this, at)
  }
}

const v4 = { protocolVersion: 4 } as const
const v5 = { protocolVersion: 5 } as const
