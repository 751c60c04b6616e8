import type { Duplex } from 'node:stream'
import type { Packet } from '../codec/publish-packet.js'
import type { Logger } from 'pino'
import type { BrokerCore } from '../broker/broker-core.js'
import { FrameReader, type FrameError } from '../codec/frame-reader.js'
import { PacketDecodeError } from '../codec/packet-decode-error.js'
import {
  PacketDecoder,
  connectProtocolLevel,
  encodePacket,
  type ProtocolVersion,
} from '../codec/packet-codec.js'
import type { ClientInfo } from '../hooks/broker-hooks.js'
import type { BrokerMessage } from '../message.js'
import type { Delivery, OutboxLink } from '../session/outbox.js'
import type { Session, SessionHolder } from '../session/session.js'
import type { ConnectionInfo } from './connection-info.js'
import { dispatchPacket } from './dispatch.js'
import { InOrderAcks } from './in-order-acks.js'
import { reason } from './reason-codes.js'

/** Bytes waiting in the socket above which the outbox holds QoS 1/2 messages back until 'drain'. */
const outboxPauseBytes = 1_048_576

/** Why a connection ends, and whether the client's will is published (MQTT 5 §3.1.2.5). */
export interface CloseOptions {
  /** MQTT 5 reason code for a server-sent DISCONNECT; nothing is sent when absent or on 3.1.1. */
  readonly reasonCode?: number
  readonly reasonString?: string
  readonly publishWill: boolean
}

/**
 * One client connection over any duplex stream: framing, decoding, keep-alive, writing with
 * backpressure, and the connection-scoped state of MQTT 5 (topic aliases, the client's limits).
 * What a packet means is up to its handler (`handlers/`); what outlives the connection is the
 * {@link Session}'s.
 */
export class Connection implements SessionHolder, OutboxLink {
  readonly core: BrokerCore
  readonly stream: Duplex
  readonly info: ConnectionInfo
  readonly decoder: PacketDecoder
  state: 'awaiting-connect' | 'authenticating' | 'connected' | 'closed' = 'awaiting-connect'
  version: ProtocolVersion = 4
  clientId = ''
  session: Session | undefined
  client: ClientInfo | undefined
  will: { readonly message: BrokerMessage; readonly delaySec: number } | undefined
  /** The client's Receive Maximum, Maximum Packet Size and Topic Alias Maximum (MQTT 5 §3.1.2.11). */
  receiveMaximum = 65_535
  clientMaxPacketBytes = Number.POSITIVE_INFINITY
  clientTopicAliasMaximum = 0
  private aliasesInMap: Map<number, string> | undefined
  private aliasesOutMap: Map<string, number> | undefined
  /** QoS 1/2 PUBLISH received and not yet acknowledged, against our Receive Maximum. */
  inboundUnacked = 0
  /** MQTT 5 Request Problem Information: false asks for no reason strings on acks [MQTT-3.1.2-29]. */
  requestProblemInformation = true
  /** Orders routing behind asynchronous onPublish hooks, so messages keep their order [MQTT-4.6.0-5]. */
  routeChain: Promise<void> | undefined
  private readonly reader: FrameReader
  private heldFrames: Buffer[] | undefined
  private ackOrder: InOrderAcks | undefined
  private keepAliveTimer: NodeJS.Timeout | undefined
  private corked = false
  private logger: Logger | undefined

  constructor(core: BrokerCore, stream: Duplex, info: ConnectionInfo) {
    this.core = core
    this.stream = stream
    this.info = info
    this.decoder = new PacketDecoder(core.packetParser)
    this.reader = new FrameReader(
      core.options.limits.maxPacketBytes,
      (f) => this.onFrame(f),
      (e) => this.onFrameError(e),
    )
    stream.on('data', (chunk: Buffer) => this.reader.push(chunk))
    stream.on('error', (err) => this.close(`socket error: ${err.message}`, { publishWill: true }))
    stream.on('close', () => this.close('connection closed by the client', { publishWill: true }))
    this.keepAliveTimer = setTimeout(
      () => this.close('no CONNECT in time', { publishWill: false }),
      core.options.limits.connectTimeoutSec * 1000,
    )
    this.keepAliveTimer.unref()
    core.connections.add(this)
    // A socket that drained can take the messages the outbox held back.
    stream.on('drain', () => this.session?.outbox.pump())
  }

  /**
   * This connection's logger, made on first use: a pino child per idle connection would cost
   * more memory than the rest of the connection.
   */
  get log(): Logger {
    this.logger ??= this.core.log.child({
      remote: this.info.remoteAddress,
      ...(this.clientId === '' ? {} : { clientId: this.clientId }),
    })
    return this.logger
  }

  /** Logs at debug level, without making the connection's logger when that level is off. */
  debug(data: object, message: string): void {
    if (this.core.log.isLevelEnabled('debug')) this.log.debug(data, message)
  }

  /** Keeps PUBACK/PUBREC in arrival order; made on first use (subscribers and idle clients never need it). */
  get acks(): InOrderAcks {
    return (this.ackOrder ??= new InOrderAcks())
  }

  /** Topic aliases the client set (MQTT 5 §3.3.2.3.4); made on first use, as most clients set none. */
  get aliasesIn(): Map<number, string> {
    return (this.aliasesInMap ??= new Map())
  }

  /** Topic aliases we set towards the client. */
  get aliasesOut(): Map<string, number> {
    return (this.aliasesOutMap ??= new Map())
  }

  /** True while the socket holds more unsent bytes than the outbox should add to. */
  get backedUp(): boolean {
    return this.stream.writableLength > outboxPauseBytes
  }

  private onFrame(frame: Buffer): void {
    if (this.state === 'closed') return
    if (this.state === 'authenticating') {
      // [MQTT-3.1.4-5] packets sent before CONNACK wait until the CONNECT is processed.
      ;(this.heldFrames ??= []).push(frame)
      return
    }
    this.keepAliveTimer?.refresh()
    let packet: Packet
    try {
      packet = this.decoder.decode(frame)
    } catch (err) {
      if (this.state === 'awaiting-connect' && refuseUnsupportedLevel(this, frame)) return
      this.protocolViolation(
        reason.malformedPacket,
        err instanceof PacketDecodeError ? err.message : 'malformed packet',
      )
      return
    }
    try {
      dispatchPacket(this, packet)
    } catch (err) {
      // A bug must cost this connection, never the process and its other clients.
      this.log.error({ err, cmd: packet.cmd }, 'packet handler failed')
      this.close('internal error', {
        reasonCode: reason.implementationSpecificError,
        publishWill: true,
      })
    }
  }

  /** Processes the packets the client sent while its CONNECT was being authenticated. */
  releaseHeldFrames(): void {
    const frames = this.heldFrames ?? []
    this.heldFrames = undefined
    for (const frame of frames) this.onFrame(frame)
  }

  private onFrameError(error: FrameError): void {
    if (error.kind === 'not-connect') {
      this.close(`packet type ${String(error.firstByte >> 4)} before CONNECT`, {
        publishWill: false,
      })
    } else if (error.kind === 'too-large') {
      this.core.metrics.limitBreaches++
      this.log.warn(
        { bytes: error.bytes, limit: this.core.options.limits.maxPacketBytes },
        'packet too large',
      )
      this.close(`packet of ${String(error.bytes)} bytes exceeds the limit`, {
        reasonCode: reason.packetTooLarge,
        publishWill: true,
      })
    } else {
      this.protocolViolation(reason.malformedPacket, 'malformed remaining length')
    }
  }

  /** Ends the connection over a packet that breaks the protocol (DISCONNECT with the reason on MQTT 5). */
  protocolViolation(reasonCode: number, why: string): void {
    this.log.info({ clientId: this.clientId, reasonCode, why }, 'protocol violation')
    this.close(why, { reasonCode, reasonString: why, publishWill: true })
  }

  /** Starts the keep-alive watch: 1.5 × the interval without a packet closes the connection [MQTT-3.1.2-22]. */
  startKeepAlive(seconds: number): void {
    if (this.keepAliveTimer !== undefined) clearTimeout(this.keepAliveTimer)
    this.keepAliveTimer = undefined
    if (seconds === 0) return
    this.keepAliveTimer = setTimeout(() => {
      this.close('keep-alive timeout', { reasonCode: reason.keepAliveTimeout, publishWill: true })
    }, seconds * 1500)
    this.keepAliveTimer.unref()
  }

  /** Writes a packet; writes of one event-loop turn go out in one batch. */
  send(packet: Packet): void {
    if (this.state === 'closed' || this.stream.destroyed) return
    this.writeBuffer(this.encodeWithin(packet))
  }

  /**
   * Encodes a packet, dropping its Reason String and User Properties when they would take it
   * over the client's Maximum Packet Size [MQTT-3.1.2-24, MQTT-3.4.2-2].
   */
  private encodeWithin(packet: Packet): Buffer {
    const bytes = encodePacket(packet, this.version)
    const props = (packet as { properties?: Record<string, unknown> }).properties
    if (bytes.length <= this.clientMaxPacketBytes || props === undefined) return bytes
    const { reasonString: _reason, userProperties: _user, ...rest } = props
    return encodePacket({ ...packet, properties: rest } as Packet, this.version)
  }

  encode(packet: Packet): Buffer {
    return encodePacket(packet, this.version)
  }

  writeBuffer(buffer: Buffer): void {
    if (!this.corked) {
      this.corked = true
      this.stream.cork()
      process.nextTick(() => this.uncork())
    }
    this.stream.write(buffer)
  }

  /**
   * Sends what this turn wrote. The slow-client check runs here, after the batch left, never
   * inside routing: a cut connection publishes its will, which must not re-enter the router.
   */
  private uncork(): void {
    this.corked = false
    this.stream.uncork()
    const buffered = this.stream.writableLength
    if (buffered <= this.core.options.limits.maxWriteBufferBytes || this.state === 'closed') return
    this.core.metrics.limitBreaches++
    this.log.warn({ clientId: this.clientId, buffered }, 'slow client disconnected')
    this.close('the client reads too slowly', { publishWill: true })
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    return this.core.publishWriter.write(this, delivery, packetId, dup)
  }

  sendPubrel(packetId: number): void {
    this.send({ cmd: 'pubrel', messageId: packetId })
  }

  takeOver(): void {
    this.close('another connection took over the session', {
      reasonCode: reason.sessionTakenOver,
      publishWill: true,
    })
  }

  /** Ends the connection once; idempotent. */
  close(why: string, options: CloseOptions): void {
    if (this.state === 'closed') return
    const wasConnected = this.state === 'connected'
    this.state = 'closed'
    this.reader.stop()
    if (this.keepAliveTimer !== undefined) clearTimeout(this.keepAliveTimer)
    if (
      options.reasonCode !== undefined &&
      this.version === 5 &&
      wasConnected &&
      !this.stream.destroyed
    ) {
      const properties =
        options.reasonString === undefined
          ? {}
          : { properties: { reasonString: options.reasonString.slice(0, 256) } }
      this.stream.write(
        this.encodeWithin({ cmd: 'disconnect', reasonCode: options.reasonCode, ...properties }),
      )
    }
    // Stop reading: a client refused on its first byte may still be sending megabytes, and each
    // chunk read would be a Buffer held for nothing (Mosquitto CVE-2023-0809).
    this.stream.pause()
    this.stream.end()
    // A client that never reads would keep the socket half-open: give the FIN a moment, then cut.
    setTimeout(() => this.stream.destroy(), 1000).unref()
    this.core.connectionClosed(this, why, options.publishWill && wasConnected)
  }
}

/**
 * [MQTT-3.1.2-2] a CONNECT with a protocol level we do not speak gets CONNACK 0x01 (the 3.1.1
 * form, which every client version can read), then the connection closes.
 */
function refuseUnsupportedLevel(conn: Connection, frame: Buffer): boolean {
  const level = connectProtocolLevel(frame)
  if (level === undefined || level === 3 || level === 4 || level === 5) return false
  conn.writeBuffer(Buffer.from([0x20, 0x02, 0x00, 0x01]))
  conn.close(`unsupported protocol level ${String(level)}`, { publishWill: false })
  return true
}
