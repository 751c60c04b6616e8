import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  inboxOf,
  connect,
  nextEvent,
  numbered,
  rawConnect,
  startBroker,
  subscribeCodes,
  testTimeoutMs,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('QoS', { concurrency: true }, () => {
  for (const protocolVersion of [4, 5] as const) {
    describe(
      `QoS delivery, MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}`,
      { concurrency: true },
      () => {
        it(
          'delivers QoS 0, 1 and 2 messages at the QoS they were published with',
          opts,
          async (t) => {
            const { url } = await startBroker(t)
            const sub = await connect(t, url, { protocolVersion })
            const inbox = inboxOf(sub)
            assert.deepEqual(await subscribeCodes(sub, 'qos/t', { qos: 2 }), [2])
            const pub = await connect(t, url, { protocolVersion })
            for (const qos of [0, 1, 2] as const)
              await pub.publishAsync('qos/t', `q${String(qos)}`, { qos })
            const got = await inbox.waitFor(3)
            assert.deepEqual(
              got.map((m) => [m.topic, m.payload, m.packet.qos]),
              [
                ['qos/t', 'q0', 0],
                ['qos/t', 'q1', 1],
                ['qos/t', 'q2', 2],
              ],
            )
            assert.equal((await inbox.settle(200)).length, 3, 'each message exactly once')
          },
        )

        it(
          'downgrades a message to the QoS its subscription was granted, never upgrades',
          opts,
          async (t) => {
            const { url } = await startBroker(t)
            const inboxes = []
            for (const qos of [0, 1, 2] as const) {
              const sub = await connect(t, url, { protocolVersion })
              inboxes.push(inboxOf(sub))
              assert.deepEqual(await subscribeCodes(sub, 'down/t', { qos }), [qos])
            }
            const pub = await connect(t, url, { protocolVersion })
            await pub.publishAsync('down/t', 'two', { qos: 2 })
            await pub.publishAsync('down/t', 'one', { qos: 1 })
            const seen = []
            for (const inbox of inboxes)
              seen.push((await inbox.waitFor(2)).map((m) => m.packet.qos))
            // Subscribed at 0, 1, 2; each row: [QoS of the QoS 2 message, QoS of the QoS 1 message].
            assert.deepEqual(seen, [
              [0, 0],
              [1, 1],
              [2, 1],
            ])
          },
        )

        it("keeps each publisher's messages in order at every QoS", opts, async (t) => {
          const { url } = await startBroker(t)
          const sub = await connect(t, url, { protocolVersion })
          const inbox = inboxOf(sub)
          await sub.subscribeAsync('order/#', { qos: 2 })
          const publishers = [
            await connect(t, url, { protocolVersion }),
            await connect(t, url, { protocolVersion }),
          ]
          const perPublisher = 300
          const sent: Promise<unknown>[] = []
          for (let i = 0; i < perPublisher; i++) {
            for (const [p, pub] of publishers.entries()) {
              const qos = (i % 3) as 0 | 1 | 2
              sent.push(
                pub.publishAsync(`order/q${String(qos)}`, `p${String(p)}-${String(i)}`, { qos }),
              )
            }
          }
          await Promise.all(sent)
          const got = await inbox.waitFor(perPublisher * 2, 8_000)
          for (const p of [0, 1]) {
            for (const qos of [0, 1, 2]) {
              const expected = numbered(perPublisher, `p${String(p)}-`).filter(
                (_, i) => i % 3 === qos,
              )
              const actual = got
                .filter(
                  (m) =>
                    m.topic === `order/q${String(qos)}` && m.payload.startsWith(`p${String(p)}-`),
                )
                .map((m) => m.payload)
              assert.deepEqual(actual, expected, `publisher ${String(p)} at QoS ${String(qos)}`)
            }
          }
        })

        it(
          'delivers a QoS 2 message once even when its PUBLISH is retransmitted before PUBREL',
          opts,
          async (t) => {
            const { url, port } = await startBroker(t)
            const sub = await connect(t, url, { protocolVersion })
            const inbox = inboxOf(sub)
            await sub.subscribeAsync('once/t', { qos: 2 })
            const { client: raw } = await rawConnect(t, port, { protocolVersion })
            raw.publish('once/t', 'first', 2, 7)
            assert.equal((await raw.next('pubrec')).messageId, 7)
            // [MQTT-4.3.3-10] the same id again before PUBREL is the same message: PUBREC, no delivery.
            raw.send({
              cmd: 'publish',
              topic: 'once/t',
              payload: 'first',
              qos: 2,
              dup: true,
              retain: false,
              messageId: 7,
            })
            assert.equal((await raw.next('pubrec')).messageId, 7)
            raw.send({ cmd: 'pubrel', messageId: 7 })
            assert.equal((await raw.next('pubcomp')).messageId, 7)
            // After PUBCOMP the id is free: the same id now carries a new message.
            raw.publish('once/t', 'second', 2, 7)
            await raw.next('pubrec')
            raw.send({ cmd: 'pubrel', messageId: 7 })
            await raw.next('pubcomp')
            await inbox.waitFor(2)
            assert.deepEqual(
              (await inbox.settle(200)).map((m) => m.payload),
              ['first', 'second'],
            )
          },
        )

        it(
          'runs the QoS 2 exchange towards a subscriber: PUBLISH, PUBREC, PUBREL, PUBCOMP',
          opts,
          async (t) => {
            const { url, port } = await startBroker(t)
            const { client: raw } = await rawConnect(t, port, { protocolVersion })
            raw.send({
              cmd: 'subscribe',
              messageId: 1,
              subscriptions: [{ topic: 'flow/t', qos: 2 }],
            })
            assert.deepEqual((await raw.next('suback')).granted, [2])
            const pub = await connect(t, url, { protocolVersion })
            await pub.publishAsync('flow/t', 'x', { qos: 2 })
            const publish = await raw.next('publish')
            assert.equal(publish.qos, 2)
            assert.equal(publish.dup, false)
            assert.ok(publish.messageId !== undefined && publish.messageId > 0)
            raw.send({ cmd: 'pubrec', messageId: publish.messageId })
            assert.equal((await raw.next('pubrel')).messageId, publish.messageId)
            raw.send({ cmd: 'pubcomp', messageId: publish.messageId })
            // The id is released: a second message flows normally.
            await pub.publishAsync('flow/t', 'y', { qos: 2 })
            const second = await raw.next('publish')
            assert.equal(second.payload.toString(), 'y')
          },
        )

        it(
          'routes messages the platform publishes with broker.publish at their QoS',
          opts,
          async (t) => {
            const { url, broker } = await startBroker(t)
            const sub = await connect(t, url, { protocolVersion })
            const inbox = inboxOf(sub)
            await sub.subscribeAsync('cmd/#', { qos: 2 })
            await broker.publish({ topic: 'cmd/a', payload: 'zero' })
            await broker.publish({ topic: 'cmd/b', payload: Buffer.from('one'), qos: 1 })
            await broker.publish({ topic: 'cmd/c', payload: 'two', qos: 2 })
            const got = await inbox.waitFor(3)
            assert.deepEqual(
              got.map((m) => [m.topic, m.payload, m.packet.qos]),
              [
                ['cmd/a', 'zero', 0],
                ['cmd/b', 'one', 1],
                ['cmd/c', 'two', 2],
              ],
            )
          },
        )
      },
    )
  }

  describe('QoS at volume and limits', { concurrency: true }, () => {
    it(
      'delivers 10,000 QoS 1 messages exactly once and in order (3.1.1 publisher, 5 subscriber)',
      { timeout: 40_000 },
      async (t) => {
        const { url } = await startBroker(t)
        const sub = await connect(t, url, { protocolVersion: 5 })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('bulk/t', { qos: 1 })
        const pub = await connect(t, url, { protocolVersion: 4 })
        const total = 10_000
        const expected = numbered(total)
        for (const payload of expected.slice(0, -1)) pub.publish('bulk/t', payload, { qos: 1 })
        await pub.publishAsync('bulk/t', expected.at(-1) ?? '', { qos: 1 })
        const got = await inbox.waitFor(total, 30_000)
        await inbox.settle(200)
        assert.equal(got.length, total, 'no duplicates')
        assert.deepEqual(inbox.payloads, expected)
        assert.ok(got.every((m) => m.packet.qos === 1 && !m.packet.dup))
      },
    )

    it(
      'grants at most the configured maximum QoS and refuses a PUBLISH above it',
      opts,
      async (t) => {
        const { url } = await startBroker(t, { settings: { maxQos: 1 } })
        const client = await connect(t, url, { protocolVersion: 5 })
        const connack = (client as unknown as { _serverProperties?: { maximumQoS?: number } })
          ._serverProperties
        assert.equal(connack?.maximumQoS, 1, 'CONNACK Maximum QoS')
        assert.deepEqual(await subscribeCodes(client, 'max/t', { qos: 2 }), [1])
        const disconnect = nextEvent<{ reasonCode?: number }>(client, 'disconnect')
        client.publish('max/t', 'x', { qos: 2 })
        assert.equal((await disconnect).reasonCode, 0x9b, 'DISCONNECT QoS not supported')
      },
    )
  })
})
