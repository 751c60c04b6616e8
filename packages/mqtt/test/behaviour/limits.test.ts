import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { IDisconnectPacket } from 'mqtt'
import { listenTcp } from '../../src/index.js'
import {
  closedWithin,
  connect,
  defer,
  connectAck,
  eventually,
  inboxOf,
  nextEvent,
  rawConnect,
  rawSocket,
  sleep,
  startBroker,
  subscribeCodes,
  testTimeoutMs,
  tryConnect,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('limits', { concurrency: true }, () => {
  describe('maximum packet size', { concurrency: true }, () => {
    it(
      'advertises it, accepts a packet of exactly that size and disconnects with 0x95 above it',
      opts,
      async (t) => {
        const b = await startBroker(t, { settings: { limits: { maxPacketBytes: 1024 } } })
        const sub = await connect(t, b.url, { protocolVersion: 5 })
        await sub.subscribeAsync('t', { qos: 0 })
        const { client: raw, connack } = await rawConnect(t, b.port, { protocolVersion: 5 })
        assert.equal(connack.properties?.maximumPacketSize, 1024)
        // PUBLISH "t", QoS 0, MQTT 5: 1 + 2 (remaining length) + 3 (topic) + 1 (properties) + payload.
        raw.publish('t', Buffer.alloc(1017, 0x61), 0)
        await inboxOf(sub).waitFor(1)
        raw.publish('t', Buffer.alloc(1018, 0x62), 0)
        assert.equal(
          (await raw.next('disconnect')).reasonCode,
          0x95,
          '[MQTT-3.2.2-?] packet too large',
        )
        await raw.waitClosed()
        assert.equal((await inboxOf(sub).settle(200)).length, 1, 'the big one was not routed')
      },
    )

    it('disconnects an MQTT.js client that publishes over the limit', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits: { maxPacketBytes: 1024 } } })
      const v5 = await connect(t, b.url, { protocolVersion: 5 })
      v5.on('error', () => undefined)
      const disconnect = nextEvent<IDisconnectPacket>(v5, 'disconnect')
      v5.publish('big', Buffer.alloc(2_000), { qos: 1 })
      assert.equal((await disconnect).reasonCode, 0x95)
      const v4 = await connect(t, b.url, { protocolVersion: 4 })
      v4.on('error', () => undefined)
      const closed = closedWithin(v4)
      v4.publish('big', Buffer.alloc(2_000), { qos: 1 })
      await closed
    })

    it(
      'cuts a client that announces a huge packet without waiting for its bytes',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5 })
        // PUBLISH with a remaining length of 200 MiB, and nothing after it (Mosquitto CVE-2023-0809).
        raw.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64]))
        assert.equal((await raw.next('disconnect', 1_000)).reasonCode, 0x95)
        await raw.waitClosed(1_500)
      },
    )
  })

  describe('maximum payload size (message_size_limit)', { concurrency: true }, () => {
    const limits = { maxPayloadBytes: 16 }

    it(
      'answers a QoS 1/2 PUBLISH over it with PUBACK/PUBREC 0x97 on MQTT 5, drops it and stays connected',
      opts,
      async (t) => {
        const b = await startBroker(t, { settings: { limits } })
        const sub = await connect(t, b.url, { protocolVersion: 5 })
        await sub.subscribeAsync('size/#', { qos: 2 })
        const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5 })
        raw.publish('size/1', Buffer.alloc(17, 0x61), 1, 1)
        // Not 0x95, which is no PUBACK/PUBREC reason code [MQTT-3.4.2-1] [MQTT-3.5.2-1].
        assert.equal((await raw.next('puback')).reasonCode, 0x97)
        raw.publish('size/2', Buffer.alloc(17, 0x62), 2, 2)
        const pubrec = await raw.next('pubrec')
        assert.deepEqual([pubrec.messageId, pubrec.reasonCode], [2, 0x97])
        raw.publish('size/0', Buffer.alloc(17, 0x63), 0)
        // Exactly at the limit is accepted, and shows the connection survived the refusals.
        raw.publish('size/ok', Buffer.alloc(16, 0x64), 1, 3)
        const ok = await raw.next('puback')
        assert.deepEqual([ok.messageId, ok.reasonCode ?? 0], [3, 0])
        const got = await inboxOf(sub).waitFor(1)
        assert.deepEqual(
          (await inboxOf(sub).settle(200)).map((m) => m.topic),
          ['size/ok'],
          'only the message within the limit was routed',
        )
        assert.equal(got[0]?.payload, 'd'.repeat(16))
        assert.equal(raw.isClosed, false)
        assert.equal(raw.all('disconnect').length, 0)
      },
    )

    it('acknowledges and drops a PUBLISH over it from a 3.1.1 client', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits } })
      const sub = await connect(t, b.url, { protocolVersion: 4 })
      await sub.subscribeAsync('size/#', { qos: 1 })
      const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 4 })
      raw.publish('size/big', Buffer.alloc(17, 0x61), 1, 1)
      // 3.1.1 has no reason codes: the QoS flow completes, as Mosquitto does, and nothing is routed.
      assert.equal((await raw.next('puback')).messageId, 1)
      raw.publish('size/ok', 'within', 1, 2)
      assert.equal((await raw.next('puback')).messageId, 2)
      await inboxOf(sub).waitFor(1)
      assert.deepEqual(
        (await inboxOf(sub).settle(200)).map((m) => m.topic),
        ['size/ok'],
      )
      assert.equal(raw.isClosed, false)
    })
  })

  describe('subscription quota', { concurrency: true }, () => {
    for (const protocolVersion of [4, 5] as const) {
      it(
        `refuses subscriptions beyond maxSubscriptionsPerClient (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, { settings: { limits: { maxSubscriptionsPerClient: 3 } } })
          const client = await connect(t, b.url, { protocolVersion })
          const refused = protocolVersion === 5 ? 0x97 : 0x80
          assert.deepEqual(
            await subscribeCodes(client, ['q/1', 'q/2', 'q/3', 'q/4', 'q/5'], { qos: 1 }),
            [1, 1, 1, refused, refused],
          )
          assert.deepEqual(
            await subscribeCodes(client, 'q/2', { qos: 2 }),
            [2],
            'replacing one is fine',
          )
          await client.unsubscribeAsync('q/1')
          assert.deepEqual(await subscribeCodes(client, 'q/4', { qos: 0 }), [0], 'room again')
        },
      )
    }
  })

  describe('connection limits', { concurrency: true }, () => {
    for (const protocolVersion of [4, 5] as const) {
      it(
        `refuses connections beyond maxConnections as server busy (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, { settings: { limits: { maxConnections: 2 } } })
          const first = await connect(t, b.url, { protocolVersion })
          await connect(t, b.url, { protocolVersion })
          const third = await tryConnect(b.url, { protocolVersion })
          if (third.client !== undefined) await third.client.endAsync(true)
          assert.ok(
            third.client === undefined,
            `a third connection was admitted (connectionCount ${String(b.broker.connectionCount)})`,
          )
          assert.equal(third.error?.code, protocolVersion === 5 ? 0x89 : 3)
          await first.endAsync()
          await eventually(() => b.broker.connectionCount === 1, 1_000, 'one left')
          await connect(t, b.url, { protocolVersion })
        },
      )

      it(
        `counts maxConnections of each listener apart from the others (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t)
          const one = await listenTcp(b.broker, { port: 0, maxConnections: 1 })
          defer(t, () => one.close())
          const two = await listenTcp(b.broker, { port: 0, maxConnections: 2 })
          defer(t, () => two.close())
          const first = await connect(t, one.url, { protocolVersion })
          const refused = await tryConnect(one.url, { protocolVersion })
          if (refused.client !== undefined) await refused.client.endAsync(true)
          assert.equal(refused.error?.code, protocolVersion === 5 ? 0x89 : 3, 'one is full')
          // The other listeners are not: the one with its own limit, and the one without.
          await connect(t, two.url, { protocolVersion })
          await connect(t, two.url, { protocolVersion })
          const third = await tryConnect(two.url, { protocolVersion })
          if (third.client !== undefined) await third.client.endAsync(true)
          assert.equal(third.error?.code, protocolVersion === 5 ? 0x89 : 3, 'two is full')
          await connect(t, b.url, { protocolVersion })
          // A place freed on a listener is its own again.
          await first.endAsync()
          await eventually(() => b.broker.connectionCount === 3, 1_000, 'first gone')
          await connect(t, one.url, { protocolVersion })
        },
      )

      it(
        `refuses connections beyond maxConnectsPerSec, then admits again (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, { settings: { limits: { maxConnectsPerSec: 2 } } })
          // Six at once: a burst of two passes, the rest is refused (a slow machine may refill one).
          const outcomes = await Promise.all(
            [1, 2, 3, 4, 5, 6].map(() => tryConnect(b.url, { protocolVersion })),
          )
          for (const o of outcomes) await o.client?.endAsync(true)
          const admitted = outcomes.filter((o) => o.client !== undefined).length
          assert.ok(admitted >= 2 && admitted <= 3, `${String(admitted)} of 6 admitted`)
          for (const o of outcomes.filter((x) => x.client === undefined))
            assert.equal(o.error?.code, protocolVersion === 5 ? 0x9f : 3)
          await sleep(1_100)
          await connect(t, b.url, { protocolVersion })
        },
      )
    }

    it(
      'counts connections that are still authenticating against maxConnections',
      opts,
      async (t) => {
        const b = await startBroker(t, {
          settings: { limits: { maxConnections: 2 } },
          hooks: {
            authenticate: async (c) => {
              await sleep(200)
              return { ok: true, identity: { id: c.clientId } }
            },
          },
        })
        const outcomes = await Promise.all(
          [1, 2, 3, 4].map(() => tryConnect(b.url, { protocolVersion: 5 })),
        )
        const admitted = outcomes.filter((o) => o.client !== undefined)
        for (const o of admitted) await o.client?.endAsync(true)
        assert.equal(
          admitted.length,
          2,
          `${String(admitted.length)} of 4 simultaneous connections admitted`,
        )
      },
    )

    it('refuses a client id longer than maxClientIdBytes', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits: { maxClientIdBytes: 8 } } })
      const five = await tryConnect(b.url, { protocolVersion: 5, clientId: 'a-very-long-id' })
      assert.equal(five.error?.code, 0x85)
      const four = await tryConnect(b.url, { protocolVersion: 4, clientId: 'a-very-long-id' })
      assert.equal(four.error?.code, 2)
      await connect(t, b.url, { protocolVersion: 5, clientId: 'short' })
    })

    it('closes a connection that sends no CONNECT within connectTimeoutSec', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits: { connectTimeoutSec: 1 } } })
      const raw = await rawSocket(t, b.port, 4)
      const started = Date.now()
      await raw.waitClosed(2_500)
      assert.ok(Date.now() - started >= 900)
    })
  })

  describe('topic limits', { concurrency: true }, () => {
    it('refuses topics with more levels or bytes than allowed', opts, async (t) => {
      const b = await startBroker(t, {
        settings: { limits: { maxTopicLevels: 3, maxTopicBytes: 16 } },
      })
      const client = await connect(t, b.url, { protocolVersion: 5 })
      assert.deepEqual(
        await subscribeCodes(client, {
          'a/b/c': { qos: 0 },
          'a/b/c/d': { qos: 0 },
          abcdefghijklmnopq: { qos: 0 },
        }),
        [0, 0x8f, 0x8f],
      )
      const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5 })
      raw.publish('a/b/c/d', 'x', 0)
      assert.equal((await raw.next('disconnect')).reasonCode, 0x90)
    })
  })

  describe('keep-alive', { concurrency: true }, () => {
    it(
      'disconnects a silent MQTT 5 client after 1.5 × its keep-alive with 0x8D',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5, keepalive: 1 })
        const started = Date.now()
        assert.equal((await raw.next('disconnect', 3_000)).reasonCode, 0x8d)
        const waited = Date.now() - started
        assert.ok(waited >= 1_300 && waited < 2_500, `after ${String(waited)} ms`)
      },
    )

    it('keeps a client that sends PINGREQ in time', opts, async (t) => {
      const b = await startBroker(t)
      const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 4, keepalive: 1 })
      for (let i = 0; i < 3; i++) {
        await sleep(700)
        raw.send({ cmd: 'pingreq' })
        await raw.next('pingresp')
      }
      assert.equal(raw.isClosed, false)
    })

    it(
      'lowers the keep-alive to maxKeepAliveSec with Server Keep Alive, and enforces it',
      opts,
      async (t) => {
        const b = await startBroker(t, { settings: { limits: { maxKeepAliveSec: 1 } } })
        const { connack } = await connectAck(t, b.url, { protocolVersion: 5, keepalive: 120 })
        assert.equal(connack.properties?.serverKeepAlive, 1)
        const { client: raw, connack: rawAck } = await rawConnect(t, b.port, {
          protocolVersion: 5,
          keepalive: 0,
        })
        assert.equal(rawAck.properties?.serverKeepAlive, 1, 'keep-alive 0 is lowered too')
        assert.equal((await raw.next('disconnect', 3_000)).reasonCode, 0x8d)
      },
    )
  })

  describe('retain available', { concurrency: true }, () => {
    it('says retain is unavailable and refuses a retained PUBLISH with 0x9A', opts, async (t) => {
      const b = await startBroker(t, { settings: { retainAvailable: false } })
      const { client: raw, connack } = await rawConnect(t, b.port, { protocolVersion: 5 })
      assert.equal(connack.properties?.retainAvailable, false)
      raw.send({ cmd: 'publish', topic: 'r', payload: 'x', qos: 0, retain: true, dup: false })
      assert.equal((await raw.next('disconnect')).reasonCode, 0x9a)
    })
  })
})
