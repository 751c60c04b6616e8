/**
 * The thin MQTT client against a fake server that misbehaves on purpose: withheld PUBACKs (resend
 * with DUP after reconnect), silence (keep-alive, connect timeout), garbage and oversized
 * packets, abrupt closes, packets split across reads or packed into one, and QoS 2 deliveries.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { describe, it } from 'node:test'
import mqttPacket from 'mqtt-packet'
import { eventually, fakeServer, makeLink, sleep } from './link-helpers.js'

const opts = { timeout: 15_000 }

describe('link against a misbehaving server', () => {
  it(
    'resends unacknowledged QoS 1 messages with DUP and the same id after a reconnect',
    opts,
    async (t) => {
      const server = await fakeServer(t, (peer, packet) => {
        if (packet.cmd === 'connect') peer.connack(true)
        // The first connection never acknowledges; the second does.
        if (packet.cmd === 'publish' && server.peers.indexOf(peer) === 1)
          peer.send({ cmd: 'puback', messageId: packet.messageId ?? 0, reasonCode: 0 })
      })
      const { link, rec } = makeLink(t, server.port)
      link.connect()
      await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
      const a = link.publish('t', Buffer.from('one'), 1)
      const b = link.publish('t', Buffer.from('two'), 1)
      await eventually(() => server.peers[0]?.of('publish').length === 2, 3_000, 'two PUBLISH')
      assert.equal(link.inflightCount, 2)
      server.peers[0]!.socket.destroy()
      await eventually(() => rec.downs.length === 1, 3_000, 'the close')
      assert.equal(rec.downs[0]!.cause, 'socket')
      link.connect()
      await eventually(() => rec.pubacks.length === 2, 3_000, 'PUBACKs on the second connection')
      const resent = server.peers[1]!.of('publish')
      assert.deepEqual(
        resent.map((p) => [p.messageId, p.dup, Buffer.from(p.payload).toString()]),
        [
          [a, true, 'one'],
          [b, true, 'two'],
        ],
      )
      assert.equal(server.peers[0]!.of('publish')[0]!.dup, false, 'the first send had no DUP')
      assert.equal(link.inflightCount, 0)
    },
  )

  it(
    'sends PINGREQ when idle for the keep-alive, and drops a server that stops answering',
    opts,
    async (t) => {
      let answerPings = true
      const server = await fakeServer(t, (peer, packet) => {
        if (packet.cmd === 'connect') peer.connack()
        if (packet.cmd === 'pingreq' && answerPings) peer.send({ cmd: 'pingresp' })
      })
      const { link, rec } = makeLink(t, server.port, { keepAliveS: 1 })
      link.connect()
      await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
      await eventually(() => server.peers[0]!.of('pingreq').length >= 2, 4_000, 'two PINGREQ')
      assert.equal(rec.downs.length, 0, 'answered pings keep the link up')
      answerPings = false
      await eventually(() => rec.downs.length === 1, 5_000, 'the keep-alive timeout')
      assert.equal(rec.downs[0]!.cause, 'keepalive-timeout')
      assert.equal(rec.downs[0]!.wasConnected, true)
    },
  )

  it('gives up on a server that never sends CONNACK', opts, async (t) => {
    const server = await fakeServer(t, () => undefined)
    const { link, rec } = makeLink(t, server.port, { connectTimeoutMs: 300 })
    link.connect()
    await eventually(() => rec.downs.length === 1, 3_000, 'the connect timeout')
    assert.equal(rec.downs[0]!.cause, 'connect-timeout')
    assert.equal(rec.downs[0]!.wasConnected, false)
  })

  it('closes on bytes that are not MQTT, and on a packet over its size limit', opts, async (t) => {
    const server = await fakeServer(t, (peer, packet) => {
      if (packet.cmd !== 'connect') return
      peer.connack()
      if (server.peers.length === 1) peer.socket.write(Buffer.from([0x00, 0x02, 0xde, 0xad]))
      // A PUBLISH announcing 1 MiB: over the link's 64 KiB limit before it has arrived.
      else peer.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x40]))
    })
    const { link, rec } = makeLink(t, server.port, { maxIncomingBytes: 64 * 1024 })
    link.connect()
    await eventually(() => rec.downs.length === 1, 3_000, 'the first close')
    assert.equal(rec.downs[0]!.cause, 'protocol-error')
    link.connect()
    await eventually(() => rec.downs.length === 2, 3_000, 'the second close')
    assert.equal(rec.downs[1]!.cause, 'protocol-error')
    assert.match(rec.downs[1]!.message ?? '', /over the 65536 limit/)
  })

  it('reports a refused TCP connection with its socket error code', opts, async (t) => {
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const { port } = probe.address() as net.AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const { link, rec } = makeLink(t, port)
    link.connect()
    await eventually(() => rec.downs.length === 1, 3_000, 'the refusal')
    assert.equal(rec.downs[0]!.cause, 'socket')
    assert.equal(rec.downs[0]!.code, 'ECONNREFUSED')
    assert.equal(link.isOpen, false)
  })

  it('reads packets split across reads and packed into one read', opts, async (t) => {
    const server = await fakeServer(t, (peer, packet) => {
      if (packet.cmd !== 'connect') return
      const connack = mqttPacket.generate(
        { cmd: 'connack', sessionPresent: false, reasonCode: 0 },
        { protocolVersion: 5 },
      )
      const publishes = [1, 2, 3].map((n) =>
        mqttPacket.generate(
          {
            cmd: 'publish',
            topic: 'x',
            payload: Buffer.alloc(300, n),
            qos: 1,
            messageId: n,
            dup: false,
            retain: false,
          },
          { protocolVersion: 5 },
        ),
      )
      const all = Buffer.concat([connack, ...publishes])
      // Byte by byte for the first 40 bytes, then the rest in one write.
      void (async () => {
        for (let i = 0; i < 40; i++) {
          peer.socket.write(all.subarray(i, i + 1))
          await sleep(1)
        }
        peer.socket.write(all.subarray(40))
      })()
    })
    const { link, rec } = makeLink(t, server.port)
    link.connect()
    await eventually(() => rec.messages.length === 3, 3_000, 'three messages')
    assert.deepEqual(
      rec.messages.map((m) => [
        m.messageId,
        (m.payload as Buffer).length,
        (m.payload as Buffer)[0],
      ]),
      [
        [1, 300, 1],
        [2, 300, 2],
        [3, 300, 3],
      ],
    )
    await eventually(() => server.peers[0]!.of('puback').length === 3, 3_000, 'three PUBACK')
  })

  it(
    'completes an incoming QoS 2 delivery once, however often the server repeats it',
    opts,
    async (t) => {
      const server = await fakeServer(t, (peer, packet) => {
        if (packet.cmd === 'connect') {
          peer.connack()
          const publish = {
            cmd: 'publish',
            topic: 'q2',
            payload: Buffer.from('once'),
            qos: 2,
            messageId: 7,
            retain: false,
          } as const
          peer.send({ ...publish, dup: false })
          peer.send({ ...publish, dup: true })
        }
        if (packet.cmd === 'pubrec' && peer.of('pubrec').length === 2)
          peer.send({ cmd: 'pubrel', messageId: 7, reasonCode: 0 })
      })
      const { link, rec } = makeLink(t, server.port)
      link.connect()
      await eventually(() => server.peers[0]?.of('pubcomp').length === 1, 3_000, 'PUBCOMP')
      assert.equal(rec.messages.length, 1)
    },
  )
})
