import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { parseFrame, readFrames, type FrameSink } from './packet-reader.js'

const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc
    .record({
      cmd: fc.constant('publish' as const),
      topic: fc.stringMatching(/^[a-z/]{1,40}$/),
      payload: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
      qos: fc.constantFrom(0 as const, 1 as const),
      messageId: fc.integer({ min: 1, max: 65_535 }),
      dup: fc.boolean(),
      retain: fc.constant(false),
    })
    .map((p) => (p.qos === 0 ? { ...p, messageId: undefined } : p) as Packet),
  fc.record({
    cmd: fc.constant('puback' as const),
    messageId: fc.integer({ min: 1, max: 65_535 }),
    reasonCode: fc.constantFrom(0, 0x10, 0x99),
  }),
  fc.constant<Packet>({ cmd: 'pingresp' }),
  fc.record({
    cmd: fc.constant('suback' as const),
    messageId: fc.integer({ min: 1, max: 65_535 }),
    granted: fc.array(fc.constantFrom(0, 1, 0x87), { minLength: 1, maxLength: 4 }),
  }),
)

function sink(maxBytes = 1 << 20) {
  const frames: Buffer[] = []
  const errors: string[] = []
  const s: FrameSink = {
    pending: null,
    onFrame: (f) => {
      frames.push(Buffer.from(f))
      return true
    },
    onFrameError: (m) => errors.push(m),
  }
  return { s, frames, errors, maxBytes }
}

describe('packet reader', () => {
  it('yields the same packets however the bytes are split into reads', () => {
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (packets, cuts) => {
          const bytes = Buffer.concat(
            packets.map((p) => mqttPacket.generate(p, { protocolVersion: 5 })),
          )
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const { s, frames, errors } = sink()
          let from = 0
          for (const at of [...points, bytes.length]) {
            if (at > from) readFrames(s, bytes.subarray(from, at), 1 << 20)
            from = Math.max(from, at)
          }
          assert.deepEqual(errors, [])
          assert.equal(s.pending, null)
          const parsed = frames.map((f) => {
            const r = parseFrame(f, 5)
            assert.ok('packet' in r, 'error' in r ? r.error.message : '')
            return r.packet
          })
          assert.deepEqual(
            parsed.map((p) => p.cmd),
            packets.map((p) => p.cmd),
          )
          parsed.forEach((p, i) => {
            const want = packets[i]!
            if (p.cmd === 'publish' && want.cmd === 'publish') {
              assert.equal(p.topic, want.topic)
              assert.deepEqual(Buffer.from(p.payload), want.payload)
            }
          })
        },
      ),
    )
  })

  it('refuses a malformed remaining length and a packet over the limit', () => {
    const bad = sink()
    readFrames(bad.s, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1 << 20)
    assert.deepEqual(bad.errors, ['malformed remaining length'])
    const big = sink()
    readFrames(big.s, Buffer.from([0x30, 0x80, 0x08]), 100)
    assert.match(big.errors[0] ?? '', /over the 100 limit/)
  })

  it('reports bytes that parse as no packet, and parses the next packet after that', () => {
    const r = parseFrame(Buffer.from([0x00, 0x00]), 5)
    assert.ok('error' in r)
    const ok = parseFrame(mqttPacket.generate({ cmd: 'pingresp' }), 5)
    assert.ok('packet' in ok && ok.packet.cmd === 'pingresp')
  })
})
