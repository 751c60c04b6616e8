import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import mqttPacket, { type Packet } from 'mqtt-packet'
import {
  ackBytes,
  connectBytes,
  disconnectBytes,
  pingreqBytes,
  publishBytes,
  subscribeBytes,
} from './link-packets.js'
import type { LinkConfig } from './link-types.js'
import { createScheduler } from './scheduler.js'

function parse(bytes: Buffer, version: 4 | 5): Packet {
  const parser = mqttPacket.parser({ protocolVersion: version })
  const packets: Packet[] = []
  parser.on('packet', (p: Packet) => packets.push(p))
  parser.on('error', (err: Error) => {
    throw err
  })
  assert.equal(parser.parse(bytes), 0)
  assert.equal(packets.length, 1)
  return packets[0]!
}

function config(protocolVersion: 4 | 5): LinkConfig {
  return {
    host: '127.0.0.1',
    port: 1,
    tls: false,
    protocolVersion,
    keepAliveS: 30,
    sessionExpiryS: 300,
    cleanStart: false,
    connectTimeoutMs: 3_000,
    maxInflight: 20,
    maxIncomingBytes: 64 * 1024,
    maxBufferedBytes: 1 << 20,
    scheduler: createScheduler({ timer: false }),
  }
}

describe('link packets', () => {
  it('builds CONNECT from the identity and the fleet config', () => {
    const auth = { kind: 'password', username: 'pump-7', password: 's3cret' } as const
    const v5 = parse(connectBytes('pump-7', auth, config(5)), 5)
    assert.equal(v5.cmd, 'connect')
    assert.equal(v5.clientId, 'pump-7')
    assert.equal(v5.clean, false)
    assert.equal(v5.keepalive, 30)
    assert.equal(v5.username, 'pump-7')
    assert.equal(v5.password?.toString(), 's3cret')
    assert.deepEqual(v5.properties, { sessionExpiryInterval: 300, maximumPacketSize: 64 * 1024 })
    const v4 = parse(connectBytes('pump-7', { kind: 'none' }, config(4)), 4)
    assert.equal(v4.cmd, 'connect')
    assert.equal(v4.protocolVersion, 4)
    assert.equal(v4.username, undefined)
    assert.equal(v4.properties, undefined)
  })

  it('builds PUBLISH: a packet id at QoS 1 only, properties on MQTT 5 only', () => {
    const props = { contentType: 'application/json' }
    const q1 = parse(publishBytes('a/b', Buffer.from('x'), 1, 9, props, 5), 5)
    assert.equal(q1.cmd, 'publish')
    assert.equal(q1.messageId, 9)
    assert.equal(q1.dup, false)
    assert.equal(q1.retain, false)
    assert.equal(q1.properties?.contentType, 'application/json')
    const q0 = parse(publishBytes('a/b', Buffer.from('x'), 0, 9, props, 4), 4)
    assert.equal(q0.cmd, 'publish')
    assert.equal(q0.qos, 0)
    assert.equal(q0.messageId, undefined)
    assert.equal(q0.properties, undefined)
  })

  it('builds SUBSCRIBE, DISCONNECT, PINGREQ and the acknowledgements', () => {
    const sub = parse(subscribeBytes(3, [{ topic: 'in/+', qos: 1 }], 5), 5)
    assert.equal(sub.cmd, 'subscribe')
    assert.equal(sub.messageId, 3)
    assert.deepEqual(
      sub.subscriptions.map((s) => [s.topic, s.qos]),
      [['in/+', 1]],
    )
    const d5 = parse(disconnectBytes(0x04, 5), 5)
    assert.equal(d5.cmd === 'disconnect' && d5.reasonCode, 0x04)
    assert.deepEqual(disconnectBytes(0x04, 4), Buffer.from([0xe0, 0x00]))
    assert.deepEqual(pingreqBytes(), Buffer.from([0xc0, 0x00]))
    for (const cmd of ['puback', 'pubrec', 'pubcomp'] as const) {
      const ack = parse(ackBytes(cmd, 12, 5), 5)
      assert.equal(ack.cmd, cmd)
      assert.equal(ack.cmd === cmd && ack.messageId, 12)
    }
  })
})
