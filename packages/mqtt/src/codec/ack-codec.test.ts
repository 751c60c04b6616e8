import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { decodeShortAck, encodeShortAck, encodeShortConnack } from './ack-codec.js'

const cmds = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const

describe('short acknowledgements', () => {
  it('encode byte for byte as mqtt-packet does, for 3.1.1 and 5', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...cmds),
        fc.integer({ min: 1, max: 65_535 }),
        fc.constantFrom(4 as const, 5 as const),
        (cmd, id, version) => {
          const packet = { cmd, messageId: id } as Packet
          assert.deepEqual(
            encodeShortAck(packet, version),
            mqttPacket.generate(packet, { protocolVersion: version }),
          )
        },
      ),
    )
  })

  it('decode the short MQTT 5 form too, which omits a success reason code [MQTT-3.4.2-1]', () => {
    assert.deepEqual(decodeShortAck(Buffer.from([0x40, 0x02, 0x12, 0x34])), {
      cmd: 'puback',
      messageId: 0x1234,
    })
    assert.deepEqual(decodeShortAck(Buffer.from([0x70, 0x04, 0x00, 0x07, 0x00, 0x00])), {
      cmd: 'pubcomp',
      messageId: 7,
    })
  })

  it('decode what they encode', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cmds), fc.integer({ min: 1, max: 65_535 }), (cmd, id) => {
        const bytes = encodeShortAck({ cmd, messageId: id }, 4)
        assert.ok(bytes !== undefined)
        assert.deepEqual(decodeShortAck(bytes), { cmd, messageId: id })
      }),
    )
  })

  it('leave reason codes, properties and wrong flags to the general codec', () => {
    assert.equal(encodeShortAck({ cmd: 'puback', messageId: 1, reasonCode: 0x87 }, 5), undefined)
    assert.equal(
      encodeShortAck({ cmd: 'puback', messageId: 1, properties: { reasonString: 'x' } }, 5),
      undefined,
    )
    assert.equal(decodeShortAck(Buffer.from([0x60, 0x02, 0x00, 0x01])), undefined) // PUBREL needs flags 0010 [MQTT-3.6.1-1]
    assert.equal(decodeShortAck(Buffer.from([0x40, 0x03, 0x00, 0x01, 0x87])), undefined)
    assert.equal(decodeShortAck(Buffer.from([0x30, 0x02, 0x00, 0x01])), undefined)
  })

  it('encode a 3.1.1 CONNACK byte for byte as mqtt-packet does, and leave MQTT 5 ones to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.boolean(), (returnCode, sessionPresent) => {
        const packet: Packet = { cmd: 'connack', returnCode, sessionPresent }
        assert.deepEqual(encodeShortConnack(packet, 4), mqttPacket.generate(packet))
      }),
    )
    const v5: Packet = { cmd: 'connack', reasonCode: 0, sessionPresent: false }
    assert.equal(encodeShortConnack(v5, 5), undefined)
  })
})
