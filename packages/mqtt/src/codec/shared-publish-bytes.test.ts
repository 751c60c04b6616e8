import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { BrokerMessage } from '../message.js'
import { encodePublish } from './publish-encoder.js'
import { SharedPublishBytes } from './shared-publish-bytes.js'

function message(topic: string, payload: string): BrokerMessage {
  return {
    topic,
    payload: Buffer.from(payload),
    qos: 2,
    retain: true,
    properties: {},
    createdAtMs: 0,
  }
}

/** The PUBLISH a delivery is, encoded on its own. */
function alone(
  m: BrokerMessage,
  form: { qos: 0 | 1 | 2; retain: boolean },
  packetId: number | undefined,
  dup: boolean,
  version: 4 | 5,
): Buffer {
  return encodePublish(
    {
      cmd: 'publish',
      topic: m.topic,
      payload: m.payload as Buffer,
      qos: form.qos,
      retain: form.retain,
      dup,
      ...(packetId === undefined ? {} : { messageId: packetId }),
    },
    version,
  )
}

describe('SharedPublishBytes', () => {
  it('gives every delivery the bytes it would have had encoded on its own', () => {
    const delivery = fc.record({
      qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      retain: fc.boolean(),
      packetId: fc.integer({ min: 1, max: 0xffff }),
      dup: fc.boolean(),
      version: fc.constantFrom<4 | 5>(4, 5),
    })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 }), delivery), { minLength: 1, maxLength: 30 }),
        (deliveries) => {
          const messages = [message('a', 'x'), message('b/c', ''), message('ü', 'y'.repeat(200))]
          const shared = new SharedPublishBytes()
          let encodes = 0
          for (const [which, d] of deliveries) {
            const m = messages[which] ?? messages[0]!
            const form = { message: m, qos: d.qos, retain: d.retain }
            const id = d.qos === 0 ? undefined : d.packetId
            const dup = d.qos === 0 ? false : d.dup
            const bytes = shared.bytes(form, d.version === 5, id, dup, () => {
              encodes++
              return alone(m, d, id, dup, d.version)
            })
            assert.deepEqual(bytes, alone(m, d, id, dup, d.version))
          }
          assert.ok(encodes <= deliveries.length)
        },
      ),
    )
  })

  it('encodes a message once per form and hands QoS 0 subscribers the same bytes', () => {
    const shared = new SharedPublishBytes()
    const m = message('t', 'hello')
    let encodes = 0
    const encode =
      (qos: 0 | 1, id?: number, dup = false): (() => Buffer) =>
      () => {
        encodes++
        return alone(m, { qos, retain: false }, id, dup, 4)
      }
    const form0 = { message: m, qos: 0 as const, retain: false }
    const first = shared.bytes(form0, false, undefined, false, encode(0))
    assert.equal(shared.bytes(form0, false, undefined, false, encode(0)), first)
    const form1 = { message: m, qos: 1 as const, retain: false }
    const withId7 = shared.bytes(form1, false, 7, false, encode(1, 7))
    const withId8 = shared.bytes(form1, false, 8, true, encode(1, 8, true))
    assert.equal(encodes, 2)
    assert.notEqual(withId7, withId8)
    // Fixed header (2 bytes), topic "t" (3), then the packet identifier.
    assert.deepEqual([withId7.readUInt16BE(5), withId8.readUInt16BE(5)], [7, 8])
    assert.equal(withId8[0], 0x3a) // PUBLISH, DUP, QoS 1
  })
})
