/**
 * Plumbing for the link tests: a recording handler, a link config on one scheduler, and a fake
 * server speaking raw MQTT for what a real broker never does (withheld acknowledgements, garbage,
 * DISCONNECT with a reason code, silence).
 */
import { once } from 'node:events'
import net from 'node:net'
import type { TestContext } from 'node:test'
import mqttPacket, { type IConnackPacket, type IPublishPacket, type Packet } from 'mqtt-packet'
import { Link } from '../../src/link/link.js'
import type {
  LinkAuth,
  LinkClose,
  LinkConfig,
  LinkHandler,
  LinkRef,
} from '../../src/link/link-types.js'
import { createScheduler, type Scheduler } from '../../src/link/scheduler.js'

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(ms)} ms: ${what}`)
    await sleep(10)
  }
}

/** Records every event a link reports. */
export class Recorder implements LinkHandler {
  readonly ups: IConnackPacket[] = []
  readonly downs: LinkClose[] = []
  readonly messages: IPublishPacket[] = []
  readonly pubacks: { id: number; code: number; reason: string | undefined }[] = []
  readonly subacks: { id: number; granted: readonly number[] }[] = []

  onLinkUp(_l: LinkRef, connack: IConnackPacket): void {
    this.ups.push(connack)
  }
  onLinkDown(_l: LinkRef, close: LinkClose): void {
    this.downs.push(close)
  }
  onMessage(_l: LinkRef, message: IPublishPacket): void {
    this.messages.push(message)
  }
  onPuback(_l: LinkRef, id: number, code: number, reason: string | undefined): void {
    this.pubacks.push({ id, code, reason })
  }
  onSuback(_l: LinkRef, id: number, granted: readonly number[]): void {
    this.subacks.push({ id, granted })
  }
}

export interface TestLink {
  readonly link: Link
  readonly rec: Recorder
  readonly scheduler: Scheduler
}

/** A link to 127.0.0.1:`port` on its own scheduler; dropped and closed after the test. */
export function makeLink(
  t: TestContext,
  port: number,
  options: Partial<Omit<LinkConfig, 'scheduler'>> & { clientId?: string; auth?: LinkAuth } = {},
): TestLink {
  const scheduler = createScheduler()
  const config: LinkConfig = {
    host: '127.0.0.1',
    port,
    tls: false,
    protocolVersion: 5,
    keepAliveS: 30,
    sessionExpiryS: 300,
    cleanStart: false,
    connectTimeoutMs: 3_000,
    maxInflight: 20,
    maxIncomingBytes: 64 * 1024,
    maxBufferedBytes: 1 << 20,
    ...options,
    scheduler,
  }
  const rec = new Recorder()
  const link = new Link(options.clientId ?? 'dev-1', options.auth ?? { kind: 'none' }, config, rec)
  t.after(async () => {
    link.drop()
    await sleep(20)
    await scheduler.close()
  })
  return { link, rec, scheduler }
}

/** One connection to the fake server: packets in, bytes out. */
export class FakePeer {
  readonly socket: net.Socket
  readonly version: 4 | 5
  readonly packets: Packet[] = []
  readonly closed: Promise<void>

  constructor(socket: net.Socket, version: 4 | 5, react: (peer: FakePeer, packet: Packet) => void) {
    this.socket = socket
    this.version = version
    const parser = mqttPacket.parser({ protocolVersion: version })
    parser.on('packet', (p: Packet) => {
      this.packets.push(p)
      react(this, p)
    })
    socket.on('data', (chunk: Buffer) => parser.parse(chunk))
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.version }))
  }

  /** Answers a CONNECT with success. */
  connack(sessionPresent = false): void {
    this.send({ cmd: 'connack', sessionPresent, returnCode: 0, reasonCode: 0 })
  }

  of<C extends Packet['cmd']>(cmd: C): Extract<Packet, { cmd: C }>[] {
    return this.packets.filter((p): p is Extract<Packet, { cmd: C }> => p.cmd === cmd)
  }
}

/**
 * A TCP server on port 0 speaking raw MQTT: `react` sees every packet of every connection and
 * answers (or not) as the test wants. Closed after the test.
 */
export async function fakeServer(
  t: TestContext,
  react: (peer: FakePeer, packet: Packet) => void,
  version: 4 | 5 = 5,
): Promise<{ port: number; peers: FakePeer[] }> {
  const peers: FakePeer[] = []
  const server = net.createServer((socket) => {
    peers.push(new FakePeer(socket, version, react))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const peer of peers) peer.socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const address = server.address() as net.AddressInfo
  return { port: address.port, peers }
}
