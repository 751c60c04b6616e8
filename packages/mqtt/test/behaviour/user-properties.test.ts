import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import {
  openSqliteSessionStore,
  userPropertyValues,
  type BrokerMessage,
  type UserProperty,
} from '../../src/index.js'
import {
  defer,
  eventually,
  inboxOf,
  rawConnect,
  startBroker,
  testTimeoutMs,
  type RawClient,
} from './helpers.js'

// [MQTT-3.3.2-17] the server forwards User Properties unchanged; [MQTT-3.3.2-18] in order. MQTT.js
// (like mqtt-packet) keys them by name, so it can neither send a=1, b=2, a=3 nor show the order
// it received: publishers write the bytes themselves and subscribers' sockets are tapped.

const opts = { timeout: testTimeoutMs }

/** Names repeated between others: keyed by name they would come out as a=1, a=3, b=2. */
const interleaved: UserProperty[] = [
  ['a', '1'],
  ['b', '2'],
  ['a', '3'],
]

/** Integer-like names, which a JavaScript object would put first and sort: 2, 10, b. */
const integerLike: UserProperty[] = [
  ['10', 'x'],
  ['b', '1'],
  ['2', 'y'],
  ['10', 'z'],
]

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

function str(s: string): Buffer {
  const b = Buffer.from(s)
  return Buffer.concat([u16(b.length), b])
}

function varint(n: number): Buffer {
  const out: number[] = []
  let rest = n
  do {
    const digit = rest % 128
    rest = Math.floor(rest / 128)
    out.push(rest > 0 ? digit | 0x80 : digit)
  } while (rest > 0)
  return Buffer.from(out)
}

/** An MQTT 5 PUBLISH carrying `pairs` as User Properties, in that order, written by hand. */
function publishFrame(
  topic: string,
  pairs: readonly UserProperty[],
  options: { qos: 0 | 1; packetId?: number; retain?: boolean },
): Buffer {
  const props = Buffer.concat(pairs.flatMap(([n, v]) => [Buffer.from([0x26]), str(n), str(v)]))
  const body = Buffer.concat([
    str(topic),
    options.qos > 0 ? u16(options.packetId ?? 1) : Buffer.alloc(0),
    varint(props.length),
    props,
    Buffer.from('payload'),
  ])
  const first = 0x30 | (options.qos << 1) | (options.retain === true ? 1 : 0)
  return Buffer.concat([Buffer.from([first]), varint(body.length), body])
}

/** Widths of the properties a server's PUBLISH may carry besides User Property. */
const propertyWidths: Readonly<Record<number, number | 'string' | 'varint'>> = {
  0x01: 1,
  0x02: 4,
  0x03: 'string',
  0x08: 'string',
  0x09: 'string',
  0x0b: 'varint',
  0x23: 2,
}

function readVarint(b: Buffer, at: number): { value: number; next: number } {
  let value = 0
  let multiplier = 1
  let p = at
  for (;;) {
    const byte = b[p++] ?? 0
    value += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return { value, next: p }
    multiplier *= 128
  }
}

/**
 * Records the User Properties of every MQTT 5 PUBLISH arriving on an MQTT.js client's socket, in
 * the order of the bytes. Attach it before the CONNACK: queued messages may share its read.
 */
class PublishTap {
  private buffered = Buffer.alloc(0)
  readonly received: { topic: string; userProperties: UserProperty[] }[] = []

  constructor(client: MqttClient) {
    client.stream.on('data', (chunk: Buffer) => this.push(chunk))
  }

  private push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk])
    for (;;) {
      if (this.buffered.length < 2) return
      const { value: length, next } = readVarint(this.buffered, 1)
      if (this.buffered.length < next + length) return
      const frame = this.buffered.subarray(0, next + length)
      this.buffered = this.buffered.subarray(next + length)
      if ((frame[0] ?? 0) >> 4 === 3) this.received.push(readPublish(frame, next))
    }
  }
}

function readPublish(frame: Buffer, at: number): PublishTap['received'][number] {
  const qos = ((frame[0] ?? 0) >> 1) & 3
  const topicLength = frame.readUInt16BE(at)
  const topic = frame.toString('utf8', at + 2, at + 2 + topicLength)
  let p = at + 2 + topicLength + (qos > 0 ? 2 : 0)
  const list = readVarint(frame, p)
  const end = list.next + list.value
  p = list.next
  const userProperties: UserProperty[] = []
  const readString = (): string => {
    const s = frame.toString('utf8', p + 2, p + 2 + frame.readUInt16BE(p))
    p += 2 + frame.readUInt16BE(p)
    return s
  }
  while (p < end) {
    const id = frame[p++] ?? 0
    if (id === 0x26) {
      const name = readString()
      userProperties.push([name, readString()])
      continue
    }
    const width = propertyWidths[id]
    if (width === undefined) throw new Error(`unexpected property 0x${id.toString(16)}`)
    if (width === 'string') readString()
    else if (width === 'varint') p = readVarint(frame, p).next
    else p += width
  }
  return { topic, userProperties }
}

/** An MQTT.js v5 client with its socket tapped from the start; ended after the test. */
async function tappedClient(
  t: TestContext,
  url: string,
  options: mqtt.IClientOptions,
): Promise<{ client: MqttClient; tap: PublishTap }> {
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  })
  defer(t, () => client.endAsync(true))
  const tap = new PublishTap(client)
  inboxOf(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return { client, tap }
}

async function publishRaw(
  raw: RawClient,
  topic: string,
  pairs: readonly UserProperty[],
  options: { packetId: number; retain?: boolean },
): Promise<void> {
  raw.socket.write(publishFrame(topic, pairs, { qos: 1, ...options }))
  assert.equal((await raw.next('puback')).messageId, options.packetId)
}

describe('User Properties [MQTT-3.3.2-17] [MQTT-3.3.2-18]', { concurrency: true }, () => {
  it(
    '[MQTT-3.3.2-18] forwards a repeated User Property name between others in the order sent',
    opts,
    async (t) => {
      const seen: BrokerMessage[] = []
      const b = await startBroker(t, { hooks: { onPublish: (_c, m) => void seen.push(m) } })
      const { client: sub, tap } = await tappedClient(t, b.url, { clientId: 'up-sub' })
      await sub.subscribeAsync('up/interleaved', { qos: 1 })
      const { client: pub } = await rawConnect(t, b.port, { protocolVersion: 5, clientId: 'up-p' })
      await publishRaw(pub, 'up/interleaved', interleaved, { packetId: 1 })
      const [m] = await inboxOf(sub).waitFor(1)
      await eventually(() => tap.received.length === 1, 2_000, 'the tapped PUBLISH')
      assert.deepEqual(tap.received[0]?.userProperties, interleaved, 'the bytes, in order')
      // What MQTT.js makes of them: keyed by name, each name's values in order.
      assert.deepEqual({ ...m?.packet.properties?.userProperties }, { a: ['1', '3'], b: '2' })
      // The onPublish hook sees the pairs as sent.
      const [hooked] = seen
      assert.ok(hooked !== undefined)
      assert.deepEqual(hooked.properties.userProperties, interleaved)
      assert.deepEqual(userPropertyValues(hooked.properties, 'a'), ['1', '3'])
    },
  )

  it(
    '[MQTT-3.3.2-18] keeps integer-like User Property names in the order sent',
    opts,
    async (t) => {
      const b = await startBroker(t)
      const { client: sub, tap } = await tappedClient(t, b.url, { clientId: 'int-sub' })
      await sub.subscribeAsync('up/integer', { qos: 1 })
      const { client: pub } = await rawConnect(t, b.port, { protocolVersion: 5, clientId: 'int-p' })
      await publishRaw(pub, 'up/integer', integerLike, { packetId: 7 })
      await inboxOf(sub).waitFor(1)
      await eventually(() => tap.received.length === 1, 2_000, 'the tapped PUBLISH')
      assert.deepEqual(tap.received[0]?.userProperties, integerLike)
    },
  )

  it(
    '[MQTT-3.3.2-17] forwards a retained message with its User Properties unchanged and in order',
    opts,
    async (t) => {
      const b = await startBroker(t)
      const { client: pub } = await rawConnect(t, b.port, { protocolVersion: 5, clientId: 'rt-p' })
      await publishRaw(pub, 'up/retained', [...interleaved, ...integerLike], {
        packetId: 3,
        retain: true,
      })
      const { client: sub, tap } = await tappedClient(t, b.url, { clientId: 'rt-sub' })
      await sub.subscribeAsync('up/retained', { qos: 1 })
      await inboxOf(sub).waitFor(1)
      await eventually(() => tap.received.length === 1, 2_000, 'the tapped PUBLISH')
      assert.deepEqual(tap.received[0]?.userProperties, [...interleaved, ...integerLike])
    },
  )

  it(
    '[MQTT-3.3.2-18] keeps the order in a queued QoS 1 message of a persistent session across a broker restart',
    opts,
    async (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-user-props-'))
      defer(t, () => fs.rmSync(dir, { recursive: true, force: true }))
      const file = path.join(dir, 'sessions.db')
      const session = {
        clientId: 'up-sleeper',
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      }
      const first = await startBroker(t, { store: openSqliteSessionStore({ path: file }) })
      const { client: sleeper } = await tappedClient(t, first.url, session)
      await sleeper.subscribeAsync('up/queued', { qos: 1 })
      await sleeper.endAsync()
      const { client: pub } = await rawConnect(t, first.port, {
        protocolVersion: 5,
        clientId: 'q-p',
      })
      // The PUBACK comes once the queued copy is durable.
      await publishRaw(pub, 'up/queued', interleaved, { packetId: 1 })
      await publishRaw(pub, 'up/queued', integerLike, { packetId: 2 })
      await first.listener.close()
      await first.broker.close()

      const second = await startBroker(t, { store: openSqliteSessionStore({ path: file }) })
      const { client: back, tap } = await tappedClient(t, second.url, session)
      await inboxOf(back).waitFor(2)
      await eventually(() => tap.received.length === 2, 2_000, 'the tapped PUBLISH')
      assert.deepEqual(
        tap.received.map((r) => r.userProperties),
        [interleaved, integerLike],
      )
    },
  )
})
