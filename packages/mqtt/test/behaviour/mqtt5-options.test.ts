import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt'
import {
  closedWithin,
  connect,
  connectAck,
  eventually,
  inboxOf,
  nextEvent,
  rawConnect,
  rawSocket,
  sleep,
  startBroker,
  testTimeoutMs,
  tryConnect,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }
const v5 = { protocolVersion: 5 } as const

function sortedIds(packet: IPublishPacket): number[] {
  const ids = packet.properties?.subscriptionIdentifier
  if (ids === undefined) return []
  return (Array.isArray(ids) ? [...ids] : [ids]).sort((a, b) => a - b)
}

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('MQTT 5 options', { concurrency: true }, () => {
  describe('message expiry', { concurrency: true }, () => {
    it(
      'drops a queued message whose expiry passed and sends the remaining interval of the rest',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const session = {
          ...v5,
          clientId: 'exp',
          clean: false,
          properties: { sessionExpiryInterval: 60 },
        }
        const first = await connect(t, b.url, session)
        await first.subscribeAsync('exp/t', { qos: 1 })
        await first.endAsync()
        await eventually(() => b.broker.connectionCount === 0, 2_000, 'offline')
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('exp/t', 'short', {
          qos: 1,
          properties: { messageExpiryInterval: 1 },
        })
        await pub.publishAsync('exp/t', 'long', {
          qos: 1,
          properties: { messageExpiryInterval: 60 },
        })
        await pub.publishAsync('exp/t', 'forever', { qos: 1 })
        await sleep(1_600)
        const back = await connect(t, b.url, session)
        const inbox = inboxOf(back)
        await inbox.waitFor(2)
        const got = await inbox.settle(200)
        assert.deepEqual(
          got.map((m) => m.payload),
          ['long', 'forever'],
          '[MQTT-3.3.2-5] expired: not sent',
        )
        const remaining = got[0]?.packet.properties?.messageExpiryInterval ?? -1
        assert.ok(
          remaining >= 55 && remaining <= 59,
          `[MQTT-3.3.2-6] remaining ${String(remaining)} s`,
        )
        assert.equal(got[1]?.packet.properties?.messageExpiryInterval, undefined)
      },
    )

    it('forwards the expiry interval on live delivery', opts, async (t) => {
      const b = await startBroker(t)
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('exp/live', { qos: 1 })
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('exp/live', 'x', { qos: 1, properties: { messageExpiryInterval: 30 } })
      const [m] = await inboxOf(sub).waitFor(1)
      const sent = m?.packet.properties?.messageExpiryInterval ?? -1
      assert.ok(sent >= 29 && sent <= 30, `got ${String(sent)}`)
    })

    it('stops sending a retained message once it expired', opts, async (t) => {
      const b = await startBroker(t)
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('exp/ret', 'soon gone', {
        qos: 1,
        retain: true,
        properties: { messageExpiryInterval: 1 },
      })
      await sleep(1_300)
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('exp/ret', { qos: 1 })
      assert.deepEqual(await inboxOf(sub).settle(300), [])
    })
  })

  describe('topic aliases', { concurrency: true }, () => {
    it(
      'resolves aliases a client sets and then uses (MQTT.js autoAssignTopicAlias)',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, v5)
        await sub.subscribeAsync('alias/#', { qos: 1 })
        const pub = await connect(t, b.url, { ...v5, autoAssignTopicAlias: true })
        const sent: IPublishPacket[] = []
        pub.on('packetsend', (p) => {
          if (p.cmd === 'publish') sent.push(p)
        })
        for (const i of [1, 2, 3])
          await pub.publishAsync('alias/long/topic/name', `a${String(i)}`, { qos: 1 })
        await pub.publishAsync('alias/other', 'b1', { qos: 1 })
        await pub.publishAsync('alias/long/topic/name', 'a4', { qos: 0 })
        assert.ok(
          sent.filter((p) => p.topic === '').length >= 3,
          'MQTT.js sent alias-only publishes',
        )
        const got = await inboxOf(sub).waitFor(5)
        assert.deepEqual(
          got.map((m) => [m.topic, m.payload]),
          [
            ['alias/long/topic/name', 'a1'],
            ['alias/long/topic/name', 'a2'],
            ['alias/long/topic/name', 'a3'],
            ['alias/other', 'b1'],
            ['alias/long/topic/name', 'a4'],
          ],
        )
      },
    )

    it('lets a client re-map an alias to another topic', opts, async (t) => {
      const b = await startBroker(t)
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('remap/#', { qos: 1 })
      const { client: raw } = await rawConnect(t, b.port, v5)
      raw.publish('remap/a', '1', 1, 1, { topicAlias: 1 })
      raw.publish('', '2', 1, 2, { topicAlias: 1 })
      raw.publish('remap/b', '3', 1, 3, { topicAlias: 1 })
      raw.publish('', '4', 1, 4, { topicAlias: 1 })
      const got = await inboxOf(sub).waitFor(4)
      assert.deepEqual(
        got.map((m) => `${m.topic}=${m.payload}`),
        ['remap/a=1', 'remap/a=2', 'remap/b=3', 'remap/b=4'],
      )
    })

    it('disconnects with 0x94 for an alias above its Topic Alias Maximum', opts, async (t) => {
      const b = await startBroker(t, { settings: { limits: { topicAliasMaximum: 2 } } })
      const { client: raw, connack } = await rawConnect(t, b.port, v5)
      assert.equal(connack.properties?.topicAliasMaximum, 2)
      raw.publish('alias/x', 'x', 0, undefined, { topicAlias: 3 })
      assert.equal((await raw.next('disconnect')).reasonCode, 0x94, '[MQTT-3.3.2-9]')
      await raw.waitClosed()
    })

    it(
      'disconnects with a protocol error for an alias that was never set on this connection',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const first = await rawConnect(t, b.port, { ...v5, clientId: 'aliaser' })
        first.client.publish('alias/set', 'x', 0, undefined, { topicAlias: 1 })
        first.client.send({ cmd: 'disconnect' })
        await first.client.waitClosed()
        // Aliases live and die with the connection [MQTT-3.3.2-7].
        const second = await rawConnect(t, b.port, { ...v5, clientId: 'aliaser' })
        second.client.publish('', 'y', 0, undefined, { topicAlias: 1 })
        assert.equal((await second.client.next('disconnect')).reasonCode, 0x82)
      },
    )

    it(
      'sends aliased publishes to a client that allows them, and MQTT.js resolves them',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, { ...v5, properties: { topicAliasMaximum: 5 } })
        await sub.subscribeAsync('down/#', { qos: 1 })
        const pub = await connect(t, b.url, v5)
        for (const topic of ['down/a', 'down/b', 'down/a', 'down/b', 'down/a'])
          await pub.publishAsync(topic, topic, { qos: 1 })
        const inbox = inboxOf(sub)
        const got = await inbox.waitFor(5)
        assert.deepEqual(
          got.map((m) => [m.topic, m.payload]),
          ['down/a', 'down/b', 'down/a', 'down/b', 'down/a'].map((x) => [x, x]),
        )
        const wire = inbox.arrivals.map((p) => [p.topic, p.properties?.topicAlias])
        assert.deepEqual(wire.slice(0, 2), [
          ['down/a', 1],
          ['down/b', 2],
        ])
        assert.deepEqual(wire.slice(2), [
          ['', 1],
          ['', 2],
          ['', 1],
        ])
      },
    )

    it(
      'never uses more aliases than the client allows, nor any without its Topic Alias Maximum',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const one = await connect(t, b.url, { ...v5, properties: { topicAliasMaximum: 1 } })
        const none = await connect(t, b.url, v5)
        await one.subscribeAsync('lim/#', { qos: 0 })
        await none.subscribeAsync('lim/#', { qos: 0 })
        const pub = await connect(t, b.url, v5)
        for (const topic of ['lim/a', 'lim/b', 'lim/b', 'lim/a'])
          await pub.publishAsync(topic, topic, { qos: 1 })
        await inboxOf(one).waitFor(4)
        await inboxOf(none).waitFor(4)
        assert.deepEqual(
          inboxOf(one).messages.map((m) => m.topic),
          ['lim/a', 'lim/b', 'lim/b', 'lim/a'],
        )
        for (const p of inboxOf(one).arrivals) assert.ok((p.properties?.topicAlias ?? 1) <= 1)
        for (const p of inboxOf(none).arrivals) assert.equal(p.properties?.topicAlias, undefined)
      },
    )

    it(
      'keeps aliases consistent when a message is withheld for exceeding the Maximum Packet Size',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, {
          ...v5,
          properties: { topicAliasMaximum: 5, maximumPacketSize: 200 },
        })
        const errors: Error[] = []
        sub.on('error', (err) => errors.push(err))
        await sub.subscribeAsync('big/t', { qos: 0 })
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('big/t', 'x'.repeat(1_000), { qos: 0 })
        await pub.publishAsync('big/t', 'small', { qos: 0 })
        await pub.publishAsync('big/t', 'small again', { qos: 0 })
        // The oversized message is not sent [MQTT-3.1.2-25]; the next ones must still name their
        // topic the first time, since the client never saw an alias for it.
        const got = await inboxOf(sub).waitFor(2, 1_500)
        assert.deepEqual(
          got.map((m) => [m.topic, m.payload]),
          [
            ['big/t', 'small'],
            ['big/t', 'small again'],
          ],
        )
        assert.deepEqual(errors, [])
      },
    )
  })

  describe('maximum packet size towards the client', { concurrency: true }, () => {
    it(
      'does not send messages larger than the client Maximum Packet Size, and carries on',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, { ...v5, properties: { maximumPacketSize: 200 } })
        const errors: Error[] = []
        sub.on('error', (err) => errors.push(err))
        await sub.subscribeAsync('mps/#', { qos: 1 })
        const pub = await connect(t, b.url, v5)
        const big = 'x'.repeat(500)
        for (const qos of [0, 1] as const) {
          await pub.publishAsync(`mps/q${String(qos)}`, `small-${String(qos)}-1`, { qos })
          await pub.publishAsync(`mps/q${String(qos)}`, big, { qos })
          await pub.publishAsync(`mps/q${String(qos)}`, `small-${String(qos)}-2`, { qos })
        }
        // Many big QoS 1 messages must not use up the in-flight window either.
        for (let i = 0; i < 20; i++) await pub.publishAsync('mps/q1', big, { qos: 1 })
        await pub.publishAsync('mps/q1', 'last', { qos: 1 })
        const inbox = inboxOf(sub)
        await inbox.waitFor(5)
        assert.deepEqual(
          (await inbox.settle(200)).map((m) => m.payload),
          ['small-0-1', 'small-0-2', 'small-1-1', 'small-1-2', 'last'],
        )
        assert.deepEqual(errors, [], 'MQTT.js saw nothing over its limit')
      },
    )
  })

  describe('subscription options', { concurrency: true }, () => {
    it('No Local: a client does not get its own messages back', opts, async (t) => {
      const b = await startBroker(t)
      const me = await connect(t, b.url, v5)
      await me.subscribeAsync('nl/t', { qos: 1, nl: true })
      const other = await connect(t, b.url, v5)
      await me.publishAsync('nl/t', 'mine', { qos: 1 })
      await other.publishAsync('nl/t', 'theirs', { qos: 1 })
      await inboxOf(me).waitFor(1)
      assert.deepEqual(
        (await inboxOf(me).settle(200)).map((m) => m.payload),
        ['theirs'],
      )
      // Without No Local the own message comes back.
      const echo = await connect(t, b.url, v5)
      await echo.subscribeAsync('nl/t', { qos: 1, nl: false })
      await echo.publishAsync('nl/t', 'echo', { qos: 1 })
      assert.deepEqual(
        (await inboxOf(echo).waitFor(1)).map((m) => m.payload),
        ['echo'],
      )
    })

    it(
      'Retain As Published keeps RETAIN on live delivery; without it RETAIN is cleared',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const rap = await connect(t, b.url, v5)
        await rap.subscribeAsync('rap/t', { qos: 1, rap: true })
        const plain = await connect(t, b.url, v5)
        await plain.subscribeAsync('rap/t', { qos: 1, rap: false })
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('rap/t', 'r', { qos: 1, retain: true })
        await pub.publishAsync('rap/t', 'n', { qos: 1, retain: false })
        const withRap = await inboxOf(rap).waitFor(2)
        const without = await inboxOf(plain).waitFor(2)
        assert.deepEqual(
          withRap.map((m) => m.packet.retain),
          [true, false],
          '[MQTT-3.3.1-13]',
        )
        assert.deepEqual(
          without.map((m) => m.packet.retain),
          [false, false],
          '[MQTT-3.3.1-12]',
        )
      },
    )

    it('Retain Handling 0 sends retained messages on every subscribe', opts, async (t) => {
      const b = await startBroker(t)
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('rh/t', 'kept', { qos: 1, retain: true })
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('rh/t', { qos: 1, rh: 0 })
      await inboxOf(sub).waitFor(1)
      await sub.subscribeAsync('rh/t', { qos: 1, rh: 0 })
      await inboxOf(sub).waitFor(2)
    })

    it('Retain Handling 1 sends retained messages only for a new subscription', opts, async (t) => {
      const b = await startBroker(t)
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('rh/t', 'kept', { qos: 1, retain: true })
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('rh/t', { qos: 1, rh: 1 })
      await inboxOf(sub).waitFor(1)
      await sub.subscribeAsync('rh/t', { qos: 1, rh: 1 })
      assert.equal((await inboxOf(sub).settle(300)).length, 1, 'not again for an existing one')
    })

    it('Retain Handling 2 never sends retained messages on subscribe', opts, async (t) => {
      const b = await startBroker(t)
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('rh/t', 'kept', { qos: 1, retain: true })
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('rh/t', { qos: 1, rh: 2 })
      assert.deepEqual(await inboxOf(sub).settle(300), [])
      await pub.publishAsync('rh/t', 'live', { qos: 1 })
      assert.deepEqual(
        (await inboxOf(sub).waitFor(1)).map((m) => m.payload),
        ['live'],
      )
    })
  })

  describe('subscription identifiers', { concurrency: true }, () => {
    it('tags a message with the identifier of the subscription it matched', opts, async (t) => {
      const b = await startBroker(t)
      const sub = await connect(t, b.url, v5)
      await sub.subscribeAsync('sid/a/+', { qos: 1, properties: { subscriptionIdentifier: 7 } })
      await sub.subscribeAsync('sid/b', { qos: 1 })
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('sid/a/1', 'a', { qos: 1 })
      await pub.publishAsync('sid/b', 'b', { qos: 1 })
      const got = await inboxOf(sub).waitFor(2)
      assert.deepEqual(
        got.map((m) => sortedIds(m.packet)),
        [[7], []],
      )
    })

    it(
      'sends one message with every identifier when overlapping subscriptions match',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, v5)
        await sub.subscribeAsync('sid/+/temp', {
          qos: 0,
          properties: { subscriptionIdentifier: 1 },
        })
        await sub.subscribeAsync('sid/#', { qos: 1, properties: { subscriptionIdentifier: 2 } })
        await sub.subscribeAsync('sid/kitchen/temp', {
          qos: 2,
          properties: { subscriptionIdentifier: 3 },
        })
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('sid/kitchen/temp', 'x', { qos: 2 })
        await pub.publishAsync('sid/hall/temp', 'y', { qos: 2 })
        const inbox = inboxOf(sub)
        await inbox.waitFor(2)
        const got = await inbox.settle(200)
        assert.equal(got.length, 2, '[MQTT-3.3.4-2] one copy per client')
        const byPayload = Object.fromEntries(got.map((m) => [m.payload, m]))
        assert.deepEqual(sortedIds(byPayload.x!.packet), [1, 2, 3], '[MQTT-3.3.4-3]')
        assert.equal(byPayload.x!.packet.qos, 2, 'the highest QoS of the matches')
        assert.deepEqual(sortedIds(byPayload.y!.packet), [1, 2])
        assert.equal(byPayload.y!.packet.qos, 1)
      },
    )

    it(
      'tags retained messages sent on subscribe and follows a changed identifier',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('sid/ret', 'kept', { qos: 1, retain: true })
        const sub = await connect(t, b.url, v5)
        await sub.subscribeAsync('sid/ret', { qos: 1, properties: { subscriptionIdentifier: 11 } })
        const [retained] = await inboxOf(sub).waitFor(1)
        assert.deepEqual(sortedIds(retained!.packet), [11])
        await sub.subscribeAsync('sid/ret', {
          qos: 1,
          rh: 2,
          properties: { subscriptionIdentifier: 12 },
        })
        await pub.publishAsync('sid/ret', 'live', { qos: 1 })
        const got = await inboxOf(sub).waitFor(2)
        assert.deepEqual(
          sortedIds(got[1]!.packet),
          [12],
          'the replaced subscription carries the new id',
        )
      },
    )
  })

  describe('message properties end to end', { concurrency: true }, () => {
    it(
      'passes user properties, content type, response topic, correlation data and payload format through',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const sub = await connect(t, b.url, v5)
        await sub.subscribeAsync('props/t', { qos: 1 })
        const pub = await connect(t, b.url, v5)
        await pub.publishAsync('props/t', '{"on":true}', {
          qos: 1,
          properties: {
            payloadFormatIndicator: true,
            contentType: 'application/json',
            responseTopic: 'props/reply/42',
            correlationData: Buffer.from([0, 1, 2, 255]),
            userProperties: { tenant: 'acme', tag: ['a', 'b'] },
          },
        })
        const [m] = await inboxOf(sub).waitFor(1)
        const p = m?.packet.properties
        assert.equal(p?.payloadFormatIndicator, true)
        assert.equal(p.contentType, 'application/json')
        assert.equal(p.responseTopic, 'props/reply/42')
        assert.deepEqual([...(p.correlationData ?? [])], [0, 1, 2, 255])
        assert.deepEqual({ ...p.userProperties }, { tenant: 'acme', tag: ['a', 'b'] })
      },
    )

    it('delivers a message with properties to a 3.1.1 subscriber without them', opts, async (t) => {
      const b = await startBroker(t)
      const old = await connect(t, b.url, { protocolVersion: 4 })
      await old.subscribeAsync('props/old', { qos: 1 })
      const pub = await connect(t, b.url, v5)
      await pub.publishAsync('props/old', 'x', {
        qos: 1,
        properties: { userProperties: { a: '1' }, contentType: 'text/plain' },
      })
      const [m] = await inboxOf(old).waitFor(1)
      assert.equal(m?.payload, 'x')
    })
  })

  describe('reason codes and reason strings', { concurrency: true }, () => {
    it(
      'refuses CONNECT with the reason code and reason string authenticate gives',
      opts,
      async (t) => {
        const b = await startBroker(t, {
          hooks: {
            authenticate: () => ({ ok: false, reasonCode: 0x86, reason: 'unknown device' }),
          },
        })
        const outcome = await tryConnect(b.url, {
          ...v5,
          username: 'u',
          password: Buffer.from('p'),
        })
        assert.equal(outcome.error?.code, 0x86)
        assert.equal(outcome.connack?.reasonCode, 0x86)
        assert.equal(outcome.connack.properties?.reasonString, 'unknown device')
      },
    )

    it('puts the reason authorizePublish gives in the PUBACK reason string', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: { authorizePublish: () => ({ allowed: false, reason: 'read-only device' }) },
      })
      const { client: raw } = await rawConnect(t, b.port, v5)
      raw.publish('ro/t', 'x', 1, 1)
      const puback = await raw.next('puback')
      assert.equal(puback.reasonCode, 0x87)
      assert.equal(puback.properties?.reasonString, 'read-only device')
    })

    it('puts the reason authorizeSubscribe gives in the SUBACK reason string', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: { authorizeSubscribe: () => ({ allowed: false, reason: 'no telemetry access' }) },
      })
      const { client: raw } = await rawConnect(t, b.port, v5)
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'tel/#', qos: 1 }] })
      const suback = await raw.next('suback')
      assert.deepEqual(suback.granted, [0x87])
      assert.equal(suback.properties?.reasonString, 'no telemetry access')
    })

    it('refuses only the invalid filter of a SUBSCRIBE with 0x8F', opts, async (t) => {
      const b = await startBroker(t)
      const { client: raw } = await rawConnect(t, b.port, v5)
      raw.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: 'ok/+', qos: 1 },
          { topic: 'bad/#/x', qos: 1 },
          { topic: '$share/g/ok/#', qos: 2 },
        ],
      })
      assert.deepEqual((await raw.next('suback')).granted, [1, 0x8f, 2])
    })

    it(
      'disconnects with 0x90 and a reason string for a PUBLISH to a wildcard topic',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const { client: raw } = await rawConnect(t, b.port, v5)
        raw.publish('bad/+/topic', 'x', 0)
        const disconnect = await raw.next('disconnect')
        assert.equal(disconnect.reasonCode, 0x90)
        assert.ok((disconnect.properties?.reasonString ?? '').length > 0)
      },
    )

    it('answers UNSUBSCRIBE with 0x11 for a filter that had no subscription', opts, async (t) => {
      const b = await startBroker(t)
      const { client: raw } = await rawConnect(t, b.port, v5)
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'u/a', qos: 0 }] })
      await raw.next('suback')
      raw.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['u/a', 'u/b'] })
      assert.deepEqual((await raw.next('unsuback')).granted, [0x00, 0x11])
    })
  })

  describe('client identifiers and server-initiated DISCONNECT', { concurrency: true }, () => {
    it('assigns a client identifier to an MQTT 5 client that sent none', opts, async (t) => {
      const b = await startBroker(t)
      const { connack } = await connectAck(t, b.url, { ...v5, clientId: '' })
      const assigned = connack.properties?.assignedClientIdentifier ?? ''
      assert.ok(assigned.length > 0, '[MQTT-3.2.2-16]')
    })

    it(
      'refuses an empty 3.1.1 client id without clean session (return code 2)',
      opts,
      async (t) => {
        const b = await startBroker(t)
        // Neither MQTT.js nor mqtt-packet will encode this CONNECT: write its bytes.
        const client = await rawSocket(t, b.port, 4)
        client.socket.write(
          Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 0, 0, 0]),
        )
        assert.equal((await client.next('connack')).returnCode, 2, '[MQTT-3.1.3-8]')
        await client.waitClosed()
      },
    )

    it(
      'sends DISCONNECT 0x98 to a client cut with disconnectIdentity, or the given reason',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const admin = await connect(t, b.url, { ...v5, username: 'cut-me' })
        const other = await connect(t, b.url, { ...v5, username: 'revoke-me' })
        const adminDisconnect = nextEvent<IDisconnectPacket>(admin, 'disconnect')
        assert.equal(b.broker.disconnectIdentity('cut-me'), 1)
        assert.equal((await adminDisconnect).reasonCode, 0x98)
        await closedWithin(admin)
        const otherDisconnect = nextEvent<IDisconnectPacket>(other, 'disconnect')
        assert.equal(b.broker.disconnectIdentity('revoke-me', { reasonCode: 0x87 }), 1)
        assert.equal((await otherDisconnect).reasonCode, 0x87)
      },
    )

    it(
      'refuses new connections while shutting down and tells connected clients 0x8B',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const client = await connect(t, b.url, v5)
        const disconnect = nextEvent<IDisconnectPacket>(client, 'disconnect')
        await b.broker.close()
        assert.equal((await disconnect).reasonCode, 0x8b)
        const late = await tryConnect(b.url, v5)
        assert.equal(late.client, undefined)
        assert.ok(late.error?.code === 0x8b || late.closed === true || late.error !== undefined)
      },
    )
  })
})
