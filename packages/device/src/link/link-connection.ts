import type net from 'node:net'
import type { IConnackPacket, Packet } from 'mqtt-packet'
import { LinkFaults } from './link-faults.js'
import { connectBytes, disconnectBytes, pingreqBytes } from './link-packets.js'
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

/** Time a clean close waits for the broker to close its side before the socket is destroyed. */
const closeGraceMs = 2_000

/** How long a PINGREQ waits for its PINGRESP: half the keep-alive, within 1–30 s. */
function pingTimeoutMs(keepAliveMs: number): number {
  return Math.min(30_000, Math.max(1_000, keepAliveMs / 2))
}

/**
 * The connection half of a `Link`: socket events, CONNECT/CONNACK, keep-alive, closes, the write
 * path (held back by a delay fault, see {@link LinkFaults}) and the link's one scheduler entry.
 * The session half (in-flight messages, packet ids, the packets that concern them) is the
 * subclass `Link`. A base class, not a helper object: a link stays one object of a few fields
 * however its code is split (the fleet bench measures heap per device).
 *
 * @example
 * const link: LinkConnection = new Link('pump-7', { kind: 'none' }, config, handler)
 * link.connect() // handler.onLinkUp(...) once the CONNACK arrives
 * link.partition(now + 30_000) // drops now; connect() is refused for 30 s
 */
export abstract class LinkConnection implements Timed, FrameSink, SocketOwner, LinkRef {
  readonly clientId: string
  readonly #auth: LinkAuth
  protected readonly config: LinkConfig
  protected readonly handler: LinkHandler
  #socket: net.Socket | null = null
  #state: LinkState = 'idle'
  pending: Buffer | null = null
  #keepAliveMs = 0
  #lastSentAt = 0
  #pingSentAt = 0
  #deadline = 0
  /** Why the connection is ending, once known (the first cause wins). */
  #close: Omit<LinkClose, 'wasConnected'> | null = null
  #wasConnected = false
  /** Partition and write delay; null until the first fault. */
  #faults: LinkFaults | null = null
  dueAt = 0
  heapIndex = -1

  constructor(clientId: string, auth: LinkAuth, config: LinkConfig, handler: LinkHandler) {
    this.clientId = clientId
    this.#auth = auth
    this.config = config
    this.handler = handler
  }

  abstract get inflightCount(): number

  /** Handles a packet other than CONNACK, PINGRESP and DISCONNECT. */
  protected abstract handleSessionPacket(packet: Packet): void

  /** On a successful CONNACK, before the handler hears of it: take the broker's limits, resend. */
  protected abstract resumeSession(connack: IConnackPacket, now: number): void

  get isConnected(): boolean {
    return this.#state === 'connected'
  }

  /** True from `connect()` until the handler was told the link is down. */
  get isOpen(): boolean {
    return this.#state !== 'idle'
  }

  /**
   * Opens the socket and sends CONNECT. False (and nothing happens) while a connection is open or
   * closing, or while the link is partitioned; otherwise the handler hears `onLinkUp` or, once,
   * `onLinkDown`.
   */
  connect(): boolean {
    const now = this.config.scheduler.now()
    if (this.#state !== 'idle' || this.#faults?.isPartitioned(now) === true) return false
    this.#close = null
    this.#wasConnected = false
    this.#pingSentAt = 0
    this.#state = 'connecting'
    try {
      this.#socket = openSocket(this.config, this.#auth, this)
    } catch (err) {
      // tls.connect throws at once on a key or certificate it cannot read.
      this.#state = 'idle'
      throw err
    }
    this.#deadline = now + this.config.connectTimeoutMs
    this.write(connectBytes(this.clientId, this.#auth, this.config), now)
    this.#reschedule(now)
    return true
  }

  /** Clean close: DISCONNECT (session kept), then the socket ends. False when not connected. */
  disconnect(reasonCode = 0): boolean {
    if (this.#state === 'connecting') return this.abort('local', 'closed while connecting')
    if (this.#state !== 'connected' || this.#socket === null) return false
    const now = this.config.scheduler.now()
    // Anything held back by a delay fault goes first: the DISCONNECT must be last.
    this.#flushDelayed(Number.POSITIVE_INFINITY)
    this.#send(disconnectBytes(reasonCode, this.config.protocolVersion), now)
    this.#close = { cause: 'local' }
    this.#state = 'closing'
    this.#socket.end()
    this.#deadline = now + closeGraceMs
    this.#reschedule(now)
    return true
  }

  /** Abrupt close: the socket is destroyed, no DISCONNECT (the broker publishes any will). */
  drop(message = 'dropped'): boolean {
    return this.abort('dropped', message)
  }

  /** Refuses `connect()` until `untilMs` and drops an open connection now. */
  partition(untilMs: number): void {
    ;(this.#faults ??= new LinkFaults()).partition(untilMs)
    this.drop('partitioned')
  }

  /** Every write waits `ms` more until `untilMs` (order kept). */
  delayWrites(ms: number, untilMs: number): void {
    ;(this.#faults ??= new LinkFaults()).delayWrites(ms, untilMs)
  }

  fire(now: number): void {
    if (this.#faults !== null) this.#flushDelayed(now)
    if (this.#state === 'connecting' && now >= this.#deadline) {
      this.abort('connect-timeout', `no CONNACK within ${String(this.config.connectTimeoutMs)} ms`)
      return
    }
    if (this.#state === 'closing' && now >= this.#deadline) {
      this.#socket?.destroy()
      return
    }
    if (this.#state === 'connected' && this.#keepAliveMs > 0) {
      const timeoutMs = pingTimeoutMs(this.#keepAliveMs)
      if (this.#pingSentAt > 0 && now - this.#pingSentAt >= timeoutMs) {
        this.abort('keepalive-timeout', `no PINGRESP within ${String(timeoutMs)} ms`)
        return
      }
      if (this.#pingSentAt === 0 && now - this.#lastSentAt >= this.#keepAliveMs) {
        this.write(pingreqBytes(), now)
        this.#pingSentAt = now
      }
    }
    this.#reschedule(now)
  }

  // --- socket events -------------------------------------------------------------------------

  handleData(chunk: Buffer): void {
    readFrames(this, chunk, this.config.maxIncomingBytes)
  }

  onFrame(frame: Buffer): boolean {
    const socket = this.#socket
    const result = parseFrame(frame, this.config.protocolVersion)
    if ('error' in result) {
      this.abort('protocol-error', result.error.message)
      return false
    }
    this.#handlePacket(result.packet)
    return this.#socket === socket && this.#state !== 'closing'
  }

  onFrameError(message: string): void {
    this.abort('protocol-error', message)
  }

  handleSocketError(err: NodeJS.ErrnoException): void {
    this.#close ??= { cause: 'socket', code: err.code ?? 'ESOCKET', message: err.message }
  }

  handleSocketClose(socket: net.Socket): void {
    if (socket !== this.#socket) return
    this.#socket = null
    this.pending = null
    this.#faults?.dropHeld()
    this.#state = 'idle'
    this.#pingSentAt = 0
    this.config.scheduler.cancel(this)
    const c = this.#close ?? { cause: 'socket', message: 'the broker closed the connection' }
    this.#close = null
    const close: LinkClose = { ...c, wasConnected: this.#wasConnected }
    this.handler.onLinkDown(this, close)
  }

  // --- packets -------------------------------------------------------------------------------

  #handlePacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        return this.#onConnack(packet)
      case 'pingresp':
        this.#pingSentAt = 0
        return
      case 'disconnect':
        this.abort(
          'server-disconnect',
          packet.properties?.reasonString ?? 'the broker sent DISCONNECT',
          packet.reasonCode ?? 0,
        )
        return
      default:
        return this.handleSessionPacket(packet)
    }
  }

  #onConnack(packet: IConnackPacket): void {
    if (this.#state !== 'connecting') {
      this.abort('protocol-error', 'a second CONNACK')
      return
    }
    const code =
      this.config.protocolVersion === 5 ? (packet.reasonCode ?? 0) : (packet.returnCode ?? 0)
    if (code !== 0) {
      const reason = packet.properties?.reasonString
      this.abort('connack', reason ?? 'the broker refused the connection', code)
      return
    }
    const now = this.config.scheduler.now()
    this.#state = 'connected'
    this.#wasConnected = true
    this.#keepAliveMs = (packet.properties?.serverKeepAlive ?? this.config.keepAliveS) * 1000
    this.resumeSession(packet, now)
    this.handler.onLinkUp(this, packet)
    // The handler may have closed the link again.
    if (this.isConnected) this.#reschedule(now)
  }

  // --- writing -------------------------------------------------------------------------------

  /** Sends `bytes`, or holds them back while a delay fault is on (see {@link LinkFaults}). */
  protected write(bytes: Buffer, now: number): void {
    const faults = this.#faults
    if (faults?.holds(now) === true) {
      const at = faults.hold(bytes, now)
      if (this.heapIndex < 0 || at < this.dueAt) this.config.scheduler.schedule(this, at)
      return
    }
    this.#send(bytes, now)
  }

  #send(bytes: Buffer, now: number): void {
    const socket = this.#socket
    if (socket === null) return
    socket.write(bytes)
    this.#lastSentAt = now
    if (socket.writableLength > this.config.maxBufferedBytes) {
      this.abort('stalled', `${String(socket.writableLength)} bytes unread by the broker`)
    }
  }

  /** Sends the held-back writes due at `now`. */
  #flushDelayed(now: number): void {
    const faults = this.#faults
    if (faults === null) return
    for (const held of faults.takeDue(now))
      this.#send(held.buf, Math.min(now, this.config.scheduler.now()))
  }

  /** Destroys the socket; the first cause given is the one `onLinkDown` reports. */
  protected abort(cause: LinkCloseCause, message: string, reasonCode?: number): boolean {
    const socket = this.#socket
    if (socket === null) return false
    this.#close ??= { cause, message, ...(reasonCode === undefined ? {} : { reasonCode }) }
    this.#state = 'closing'
    socket.destroy()
    return true
  }

  #reschedule(now: number): void {
    let at = Number.POSITIVE_INFINITY
    const heldAt = this.#faults?.nextDueAt
    if (heldAt !== undefined) at = heldAt
    if (this.#state === 'connecting' || this.#state === 'closing') at = Math.min(at, this.#deadline)
    if (this.#state === 'connected' && this.#keepAliveMs > 0) {
      at = Math.min(
        at,
        this.#pingSentAt > 0
          ? this.#pingSentAt + pingTimeoutMs(this.#keepAliveMs)
          : Math.max(now, this.#lastSentAt + this.#keepAliveMs),
      )
    }
    if (at === Number.POSITIVE_INFINITY) this.config.scheduler.cancel(this)
    else this.config.scheduler.schedule(this, at)
  }
}
