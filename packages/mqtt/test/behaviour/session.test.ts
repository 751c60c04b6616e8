import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { IDisconnectPacket } from 'mqtt'
import {
  inboxOf,
  closedWithin,
  connect,
  connectAck,
  eventually,
  nextEvent,
  numbered,
  rawConnect,
  sleep,
  startBroker,
  testTimeoutMs,
  type ClientOptions,
  type RawConnectOptions,
  type TestBroker,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

/** Options of a client that keeps its session: clean session off, and on 5 a 60 s expiry. */
function persistent(protocolVersion: 4 | 5, clientId: string): ClientOptions {
  return protocolVersion === 5
    ? { protocolVersion, clientId, clean: false, properties: { sessionExpiryInterval: 60 } }
    : { protocolVersion, clientId, clean: false }
}

/** {@link persistent} for a raw client. */
function rawPersistent(protocolVersion: 4 | 5, clientId: string): RawConnectOptions {
  return {
    protocolVersion,
    clientId,
    clean: false,
    keepalive: 0,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
  }
}

/** Waits until the broker has `count` connections, so the next publish finds a session offline. */
async function connections(b: TestBroker, count: number): Promise<void> {
  await eventually(() => b.broker.connectionCount === count, 2_000, `${String(count)} connections`)
}

/** Connects `clientId` persistently, subscribes to `filter` at QoS 2, and goes away cleanly. */
async function subscribeAndLeave(
  t: TestContext,
  b: TestBroker,
  protocolVersion: 4 | 5,
  clientId: string,
  filter: string,
): Promise<void> {
  const client = await connect(t, b.url, persistent(protocolVersion, clientId))
  await client.subscribeAsync(filter, { qos: 2 })
  const before = b.broker.connectionCount
  await client.endAsync()
  await connections(b, before - 1)
}

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('sessions', { concurrency: true }, () => {
  for (const protocolVersion of [4, 5] as const) {
    const v = protocolVersion === 4 ? '3.1.1' : '5'
    describe(`sessions, MQTT ${v}`, { concurrency: true }, () => {
      it('resumes a persistent session: session present, subscriptions kept', opts, async (t) => {
        const b = await startBroker(t)
        const first = await connectAck(t, b.url, persistent(protocolVersion, 'keeper'))
        assert.equal(first.connack.sessionPresent, false, 'no session yet')
        await first.client.subscribeAsync('sess/keep', { qos: 1 })
        await first.client.endAsync()
        const again = await connectAck(t, b.url, persistent(protocolVersion, 'keeper'))
        assert.equal(again.connack.sessionPresent, true, '[MQTT-3.2.2-2] session present')
        const inbox = inboxOf(again.client)
        const pub = await connect(t, b.url, { protocolVersion })
        await pub.publishAsync('sess/keep', 'still subscribed', { qos: 1 })
        assert.deepEqual(
          (await inbox.waitFor(1)).map((m) => m.payload),
          ['still subscribed'],
        )
      })

      it('starts over on clean start: no session present, subscriptions gone', opts, async (t) => {
        const b = await startBroker(t)
        const first = await connect(t, b.url, persistent(protocolVersion, 'cleaner'))
        await first.subscribeAsync('sess/clean', { qos: 1 })
        await first.endAsync()
        const again = await connectAck(t, b.url, {
          protocolVersion,
          clientId: 'cleaner',
          clean: true,
        })
        assert.equal(again.connack.sessionPresent, false, '[MQTT-3.2.2-1]')
        const inbox = inboxOf(again.client)
        const pub = await connect(t, b.url, { protocolVersion })
        await pub.publishAsync('sess/clean', 'x', { qos: 1 })
        assert.deepEqual(await inbox.settle(300), [])
      })

      it(
        'delivers QoS 1 and 2 messages queued while offline, in order, none lost',
        opts,
        async (t) => {
          const b = await startBroker(t)
          await subscribeAndLeave(t, b, protocolVersion, 'away', 'sess/queue')
          const pub = await connect(t, b.url, { protocolVersion })
          const sent = numbered(100)
          for (const [i, payload] of sent.entries())
            await pub.publishAsync('sess/queue', payload, { qos: i % 2 === 0 ? 1 : 2 })
          const back = await connect(t, b.url, persistent(protocolVersion, 'away'))
          const inbox = inboxOf(back)
          const got = await inbox.waitFor(100)
          await inbox.settle(200)
          assert.equal(got.length, 100, 'each exactly once')
          // On the wire, in publish order (MQTT.js itself emits QoS 2 messages later, on PUBREL).
          assert.deepEqual(
            inbox.arrivals.map((p) => [p.payload.toString(), p.qos]),
            sent.map((payload, i) => [payload, i % 2 === 0 ? 1 : 2]),
          )
        },
      )

      it('does not queue QoS 0 messages for an offline session', opts, async (t) => {
        const b = await startBroker(t)
        await subscribeAndLeave(t, b, protocolVersion, 'q0', 'sess/q0')
        const pub = await connect(t, b.url, { protocolVersion })
        await pub.publishAsync('sess/q0', 'dropped', { qos: 0 })
        await pub.publishAsync('sess/q0', 'kept', { qos: 1 })
        const back = await connect(t, b.url, persistent(protocolVersion, 'q0'))
        const inbox = inboxOf(back)
        await inbox.waitFor(1)
        assert.deepEqual(
          (await inbox.settle(200)).map((m) => m.payload),
          ['kept'],
        )
      })

      it(
        'keeps the newest messages when the offline queue is full (drop-oldest)',
        opts,
        async (t) => {
          const b = await startBroker(t, { settings: { limits: { maxQueuedPerSession: 10 } } })
          await subscribeAndLeave(t, b, protocolVersion, 'full', 'sess/full')
          const pub = await connect(t, b.url, { protocolVersion })
          const sent = numbered(25)
          for (const payload of sent) await pub.publishAsync('sess/full', payload, { qos: 1 })
          const back = await connect(t, b.url, persistent(protocolVersion, 'full'))
          const inbox = inboxOf(back)
          await inbox.waitFor(10)
          assert.deepEqual(
            (await inbox.settle(300)).map((m) => m.payload),
            sent.slice(15),
          )
          assert.ok(b.broker.metrics.messagesDropped >= 15, 'drops are counted')
        },
      )

      it('keeps the oldest messages when the offline queue is full (drop-new)', opts, async (t) => {
        const b = await startBroker(t, {
          settings: { limits: { maxQueuedPerSession: 10, queueOverflow: 'drop-new' } },
        })
        await subscribeAndLeave(t, b, protocolVersion, 'full', 'sess/full')
        const pub = await connect(t, b.url, { protocolVersion })
        const sent = numbered(25)
        for (const payload of sent) await pub.publishAsync('sess/full', payload, { qos: 1 })
        const back = await connect(t, b.url, persistent(protocolVersion, 'full'))
        const inbox = inboxOf(back)
        await inbox.waitFor(10)
        assert.deepEqual(
          (await inbox.settle(300)).map((m) => m.payload),
          sent.slice(0, 10),
        )
      })

      it(
        'lets a second connection with the same client id take the session over',
        opts,
        async (t) => {
          const b = await startBroker(t)
          const first = await connect(t, b.url, persistent(protocolVersion, 'same'))
          first.on('error', () => undefined)
          await first.subscribeAsync('sess/take', { qos: 1 })
          const disconnect =
            protocolVersion === 5 ? nextEvent<IDisconnectPacket>(first, 'disconnect') : undefined
          const closed = closedWithin(first)
          const second = await connectAck(t, b.url, persistent(protocolVersion, 'same'))
          await closed
          if (disconnect !== undefined) assert.equal((await disconnect).reasonCode, 0x8e)
          assert.equal(
            second.connack.sessionPresent,
            true,
            'the session moved to the new connection',
          )
          const inbox = inboxOf(second.client)
          const pub = await connect(t, b.url, { protocolVersion })
          await pub.publishAsync('sess/take', 'to the new one', { qos: 1 })
          assert.deepEqual(
            (await inbox.waitFor(1)).map((m) => m.payload),
            ['to the new one'],
          )
          assert.equal(b.broker.connectionCount, 2)
        },
      )

      it('resends an unacknowledged QoS 1 message with DUP after reconnecting', opts, async (t) => {
        const b = await startBroker(t)
        const session = rawPersistent(protocolVersion, 'unacked')
        const raw = await rawConnect(t, b.port, session)
        raw.client.send({
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: [{ topic: 'sess/dup', qos: 1 }],
        })
        await raw.client.next('suback')
        const pub = await connect(t, b.url, { protocolVersion })
        await pub.publishAsync('sess/dup', 'again', { qos: 1 })
        const first = await raw.client.next('publish')
        assert.equal(first.dup, false)
        raw.client.destroy()
        await connections(b, 1)
        const back = await rawConnect(t, b.port, session)
        assert.equal(back.connack.sessionPresent, true)
        const resent = await back.client.next('publish')
        assert.equal(resent.payload.toString(), 'again')
        assert.equal(resent.dup, true, '[MQTT-4.4.0-1] resent with DUP')
        assert.equal(resent.messageId, first.messageId, 'same packet id')
        back.client.send({ cmd: 'puback', messageId: resent.messageId! })
        await sleep(200)
        assert.deepEqual(back.client.take('publish'), [], 'acknowledged: not sent again')
      })

      it(
        'does not deliver a QoS 2 message twice when its publisher resends it after reconnecting',
        opts,
        async (t) => {
          const b = await startBroker(t)
          const sub = await connect(t, b.url, { protocolVersion })
          await sub.subscribeAsync('sess/exactly', { qos: 2 })
          const session = rawPersistent(protocolVersion, 'qos2-publisher')
          const first = await rawConnect(t, b.port, session)
          first.client.publish('sess/exactly', 'once', 2, 42)
          await first.client.next('pubrec')
          first.client.destroy()
          await connections(b, 1)
          // [MQTT-4.3.3-10] the broker keeps the packet id across the reconnect: the resent
          // PUBLISH is answered, not routed again.
          const back = await rawConnect(t, b.port, session)
          back.client.send({
            cmd: 'publish',
            topic: 'sess/exactly',
            payload: 'once',
            qos: 2,
            dup: true,
            retain: false,
            messageId: 42,
          })
          assert.equal((await back.client.next('pubrec')).messageId, 42)
          back.client.send({ cmd: 'pubrel', messageId: 42 })
          assert.equal((await back.client.next('pubcomp')).messageId, 42)
          await inboxOf(sub).waitFor(1)
          assert.deepEqual(
            (await inboxOf(sub).settle(300)).map((m) => m.payload),
            ['once'],
          )
        },
      )

      it(
        'resends PUBREL, not the message, for a QoS 2 delivery the client had received',
        opts,
        async (t) => {
          const b = await startBroker(t)
          const session = rawPersistent(protocolVersion, 'pubrec')
          const raw = await rawConnect(t, b.port, session)
          raw.client.send({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: [{ topic: 'sess/q2', qos: 2 }],
          })
          await raw.client.next('suback')
          const pub = await connect(t, b.url, { protocolVersion })
          await pub.publishAsync('sess/q2', 'once', { qos: 2 })
          const publish = await raw.client.next('publish')
          raw.client.send({ cmd: 'pubrec', messageId: publish.messageId! })
          await raw.client.next('pubrel')
          raw.client.destroy()
          await connections(b, 1)
          const back = await rawConnect(t, b.port, session)
          const pubrel = await back.client.next('pubrel')
          assert.equal(pubrel.messageId, publish.messageId)
          await sleep(200)
          assert.deepEqual(back.client.take('publish'), [], 'the message itself is not resent')
          back.client.send({ cmd: 'pubcomp', messageId: pubrel.messageId! })
        },
      )
    })
  }

  describe('session expiry, MQTT 5', { concurrency: true }, () => {
    it('forgets a session once its expiry interval has passed', opts, async (t) => {
      const b = await startBroker(t)
      const first = await connect(t, b.url, {
        protocolVersion: 5,
        clientId: 'brief',
        clean: false,
        properties: { sessionExpiryInterval: 1 },
      })
      await first.subscribeAsync('exp/t', { qos: 1 })
      await first.endAsync()
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      await sleep(2_300)
      await pub.publishAsync('exp/t', 'after expiry', { qos: 1 })
      const again = await connectAck(t, b.url, {
        protocolVersion: 5,
        clientId: 'brief',
        clean: false,
        properties: { sessionExpiryInterval: 1 },
      })
      assert.equal(again.connack.sessionPresent, false, 'the session expired')
      const inbox = inboxOf(again.client)
      assert.deepEqual(await inbox.settle(300), [], 'nothing queued, no subscription left')
    })

    it('keeps a session that is resumed before its expiry interval', opts, async (t) => {
      const b = await startBroker(t)
      const options: ClientOptions = {
        protocolVersion: 5,
        clientId: 'soon',
        clean: false,
        properties: { sessionExpiryInterval: 3 },
      }
      const first = await connect(t, b.url, options)
      await first.subscribeAsync('exp/soon', { qos: 1 })
      await first.endAsync()
      await sleep(1_200)
      const again = await connectAck(t, b.url, options)
      assert.equal(again.connack.sessionPresent, true)
    })

    it('ends the session with the connection when the expiry interval is 0', opts, async (t) => {
      const b = await startBroker(t)
      const options: ClientOptions = { protocolVersion: 5, clientId: 'zero', clean: false }
      const first = await connect(t, b.url, options)
      await first.subscribeAsync('exp/zero', { qos: 1 })
      await first.endAsync()
      const again = await connectAck(t, b.url, options)
      assert.equal(again.connack.sessionPresent, false, '[MQTT-3.1.2-23] 0: the session ends')
    })

    it('lets DISCONNECT shorten the session expiry to 0', opts, async (t) => {
      const b = await startBroker(t)
      const options: ClientOptions = {
        protocolVersion: 5,
        clientId: 'shorten',
        clean: false,
        properties: { sessionExpiryInterval: 60 },
      }
      const first = await connect(t, b.url, options)
      await first.subscribeAsync('exp/short', { qos: 1 })
      await first.endAsync({ reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
      const again = await connectAck(t, b.url, options)
      assert.equal(again.connack.sessionPresent, false)
    })

    it('caps the session expiry at maxSessionExpirySec and says so in CONNACK', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits: { maxSessionExpirySec: 10 } } })
      const { connack } = await connectAck(t, b.url, {
        protocolVersion: 5,
        clientId: 'capped',
        clean: false,
        properties: { sessionExpiryInterval: 3_600 },
      })
      assert.equal(connack.properties?.sessionExpiryInterval, 10)
    })

    it(
      'resumes a 3.1.1 persistent session from an MQTT 5 client with its queued messages',
      opts,
      async (t) => {
        const b = await startBroker(t)
        await subscribeAndLeave(t, b, 4, 'upgraded', 'sess/upgrade')
        const pub = await connect(t, b.url, { protocolVersion: 4 })
        await pub.publishAsync('sess/upgrade', 'queued for v5', { qos: 1 })
        const back = await connectAck(t, b.url, persistent(5, 'upgraded'))
        assert.equal(back.connack.sessionPresent, true)
        const inbox = inboxOf(back.client)
        assert.deepEqual(
          (await inbox.waitFor(1)).map((m) => m.payload),
          ['queued for v5'],
        )
      },
    )
  })
})
