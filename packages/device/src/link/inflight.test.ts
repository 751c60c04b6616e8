import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import mqttPacket, { type IPublishPacket } from 'mqtt-packet'
import {
  addInflight,
  inflightCount,
  markDuplicate,
  nextPacketId,
  settleInflight,
  type Inflight,
} from './inflight.js'

describe('in-flight bookkeeping', () => {
  it('numbers packets 1–65,535, wraps to 1, and skips ids still in flight', () => {
    assert.equal(nextPacketId(null, 0), 1)
    assert.equal(nextPacketId(null, 41), 42)
    assert.equal(nextPacketId(null, 65_535), 1)
    let inflight: Inflight = addInflight(null, 1, Buffer.alloc(2))
    inflight = addInflight(inflight, 2, Buffer.alloc(2))
    assert.equal(nextPacketId(inflight, 65_535), 3)
  })

  it('keeps no map once nothing is in flight', () => {
    let inflight: Inflight = null
    assert.equal(inflightCount(inflight), 0)
    inflight = addInflight(inflight, 7, Buffer.from('a'))
    inflight = addInflight(inflight, 8, Buffer.from('b'))
    assert.equal(inflightCount(inflight), 2)
    assert.equal(settleInflight(inflight, 9), undefined, 'a stray PUBACK settles nothing')
    const left = settleInflight(inflight, 7)
    assert.equal(left, inflight)
    assert.equal(inflightCount(left), 1)
    assert.equal(settleInflight(left, 8), null, 'the last PUBACK drops the map')
    assert.equal(settleInflight(null, 8), undefined)
  })

  it('sets DUP on the encoded PUBLISH in place [MQTT-3.3.1-1]', () => {
    const bytes = mqttPacket.generate(
      {
        cmd: 'publish',
        topic: 't',
        payload: Buffer.from('x'),
        qos: 1,
        messageId: 5,
        retain: false,
        dup: false,
      },
      { protocolVersion: 5 },
    )
    assert.equal(markDuplicate(bytes), bytes)
    const parser = mqttPacket.parser({ protocolVersion: 5 })
    let parsed: IPublishPacket | undefined
    parser.on('packet', (p) => (parsed = p as IPublishPacket))
    parser.parse(bytes)
    assert.equal(parsed?.dup, true)
    assert.equal(parsed.qos, 1)
    assert.equal(parsed.messageId, 5)
  })
})
