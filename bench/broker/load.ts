// A lean MQTT 3.1.1 load client on a raw socket. mqtt-packet builds the packets (CONNECT,
// SUBSCRIBE, and one PUBLISH template per scenario) and decodes the rare control packets; the hot
// path (PUBLISH in, PUBACK in and out) is a few byte reads per message, and publishes go out in
// batches of copied templates, so the load generator spends as little of the shared CPU as it can.
import net from 'node:net'
import { generate, type Packet, parser as createParser, type Parser, type QoS } from 'mqtt-packet'

import { FrameReader } from './frames.js'

export const payloadBytes = 64
const handshakeTimeoutMs = 10_000
const disconnectPacket = Buffer.from([0xe0, 0x00])

/** Counts what subscribers receive; one sink is shared by all subscribers of a scenario. */
export interface DeliverySink {
  delivered: number
  /** One call per PUBLISH received: the send time written in its payload, and now (both ms). */
  record(sentAtMs: number, nowMs: number): void
  /** Called once per chunk read by a subscriber, after its messages were counted. */
  progress(): void
}

/**
 * The bytes of one PUBLISH packet with a 64-byte payload, copied for each message sent. The
 * payload starts with the send time (performance.now(), float64) and a sequence number (uint32).
 */
export class PublishTemplate {
  readonly bytes: Buffer
  readonly qos: 0 | 1
  readonly payloadOffset: number
  /** Offset of the packet identifier, or -1 at QoS 0. */
  readonly idOffset: number

  constructor(topic: string, qos: 0 | 1) {
    const payload = Buffer.alloc(payloadBytes, 0x2e)
    const packet: Packet = { cmd: 'publish', topic, payload, qos, dup: false, retain: false }
    if (qos === 1) packet.messageId = 1
    this.bytes = generate(packet)
    this.qos = qos
    this.payloadOffset = this.bytes.length - payloadBytes
    this.idOffset = qos === 1 ? this.payloadOffset - 2 : -1
  }
}

export interface ConnectOptions {
  readonly port: number
  readonly clientId: string
  readonly keepaliveS: number
  readonly localAddress?: string
}

/** One MQTT connection of the load generator (clean session, MQTT 3.1.1). */
export class LoadClient {
  readonly socket: net.Socket
  /** QoS 1 publishes sent and not yet acknowledged. */
  inflight = 0
  /** Write buffer full: wait for `onWake`. */
  blocked = false
  /** Why the connection failed, once it has. */
  failure: string | null = null
  /** Where received PUBLISH packets are counted; null for publishers. */
  sink: DeliverySink | null = null
  /** Called when PUBACKs freed window space or the write buffer drained. */
  onWake: (() => void) | null = null
  private readonly frames: FrameReader
  private readonly ackIds: number[] = []
  private control: Parser | null = null
  private waiter: { cmd: string; ok: (p: Packet) => void; fail: (e: Error) => void } | null = null
  private closing = false
  private nextId = 1
  private seq = 0

  private constructor(socket: net.Socket) {
    this.socket = socket
    this.frames = new FrameReader(this)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('drain', () => {
      this.blocked = false
      this.onWake?.()
    })
    socket.on('error', (err) => this.fail(err.message))
    socket.on('close', () => this.fail('connection closed'))
  }

  /** Opens a TCP connection, sends CONNECT and waits for a successful CONNACK. */
  static async connect(options: ConnectOptions): Promise<LoadClient> {
    const { port, localAddress } = options
    const socket = net.connect(
      localAddress === undefined
        ? { port, host: '127.0.0.1' }
        : { port, host: '127.0.0.1', localAddress },
    )
    const client = new LoadClient(socket)
    const connect: Packet = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: options.clientId,
      keepalive: options.keepaliveS,
    }
    // The CONNACK wait starts before the TCP handshake, so its timeout bounds both.
    const connackArrived = client.expect('connack')
    socket.once('connect', () => socket.write(generate(connect)))
    try {
      const connack = await connackArrived
      const code = connack.cmd === 'connack' ? (connack.returnCode ?? connack.reasonCode ?? 0) : -1
      if (code !== 0) throw new Error(`CONNACK return code ${String(code)}`)
      return client
    } catch (err) {
      client.destroy()
      throw new Error(
        `${options.clientId}: cannot connect to 127.0.0.1:${String(port)}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      )
    }
  }

  /** Subscribes to one topic and waits for a SUBACK that grants it. */
  async subscribe(topic: string, qos: QoS): Promise<void> {
    this.socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }))
    const suback = await this.expect('suback')
    const granted = suback.cmd === 'suback' ? suback.granted[0] : undefined
    if (typeof granted !== 'number' || granted >= 0x80) {
      throw new Error(
        `SUBACK refused ${topic}: ${granted === undefined ? 'no code' : JSON.stringify(granted)}`,
      )
    }
  }

  /** Sends `count` copies of the template, stamped with `now` (performance.now()), in one write. */
  publishBatch(template: PublishTemplate, count: number, now: number): void {
    const size = template.bytes.length
    const out = Buffer.allocUnsafe(size * count)
    for (let i = 0, at = 0; i < count; i += 1, at += size) {
      template.bytes.copy(out, at)
      if (template.idOffset >= 0) {
        out.writeUInt16BE(this.nextId, at + template.idOffset)
        this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1
      }
      out.writeDoubleBE(now, at + template.payloadOffset)
      out.writeUInt32BE(this.seq, at + template.payloadOffset + 8)
      this.seq = (this.seq + 1) >>> 0
    }
    if (template.qos === 1) this.inflight += count
    if (!this.socket.write(out)) this.blocked = true
  }

  /** Sends DISCONNECT and closes the socket. */
  close(): void {
    this.closing = true
    if (!this.socket.destroyed) this.socket.end(disconnectPacket)
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.closing = true
    this.socket.destroy()
  }

  /** FrameReader callback, per MQTT packet; hot path for PUBLISH (3) and PUBACK (4). */
  onFrame(buf: Buffer, start: number, bodyStart: number, end: number, nowMs: number): void {
    const first = buf[start] ?? 0
    const type = first >> 4
    if (type === 3) {
      let at = bodyStart + 2 + buf.readUInt16BE(bodyStart)
      if ((first & 0x06) !== 0) {
        this.ackIds.push(buf.readUInt16BE(at))
        at += 2
      }
      const sink = this.sink
      if (sink !== null) {
        sink.delivered += 1
        if (end - at >= 8) sink.record(buf.readDoubleBE(at), nowMs)
      }
    } else if (type === 4) {
      this.inflight -= 1
    } else {
      this.decodeControl(buf.subarray(start, end))
    }
  }

  private onData(chunk: Buffer): void {
    try {
      this.frames.push(chunk, performance.now())
    } catch (err) {
      this.fail(`bad packet from broker: ${String(err)}`)
      this.socket.destroy()
      return
    }
    if (this.ackIds.length > 0) this.sendPubacks()
    this.sink?.progress()
    this.onWake?.()
  }

  private sendPubacks(): void {
    const out = Buffer.allocUnsafe(4 * this.ackIds.length)
    for (let i = 0; i < this.ackIds.length; i += 1) {
      out.writeUInt16BE(0x4002, 4 * i)
      out.writeUInt16BE(this.ackIds[i] ?? 0, 4 * i + 2)
    }
    this.ackIds.length = 0
    this.socket.write(out)
  }

  private decodeControl(frame: Buffer): void {
    if (this.control === null) {
      this.control = createParser({ protocolVersion: 4 })
      this.control.on('packet', (packet) => this.onControl(packet))
      this.control.on('error', (err: unknown) => this.fail(`bad control packet: ${String(err)}`))
    }
    this.control.parse(frame)
  }

  private onControl(packet: Packet): void {
    const waiter = this.waiter
    if (waiter?.cmd === packet.cmd) {
      this.waiter = null
      waiter.ok(packet)
    }
  }

  private expect(cmd: string): Promise<Packet> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no ${cmd} within ${String(handshakeTimeoutMs)} ms`)),
        handshakeTimeoutMs,
      )
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T): void => {
          clearTimeout(timer)
          f(v)
        }
      this.waiter = { cmd, ok: settle(ok), fail: settle(fail) }
    })
  }

  private fail(reason: string): void {
    if (this.closing) return
    this.failure ??= reason
    const waiter = this.waiter
    this.waiter = null
    waiter?.fail(new Error(reason))
    this.onWake?.()
  }
}
