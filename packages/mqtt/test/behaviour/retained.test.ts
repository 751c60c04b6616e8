import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { connect, inboxOf, startBroker, testTimeoutMs } from './helpers.js'

const opts = { timeout: testTimeoutMs }

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('retained messages', { concurrency: true }, () => {
  for (const protocolVersion of [4, 5] as const) {
    const v = protocolVersion === 4 ? '3.1.1' : '5'
    describe(`retained messages, MQTT ${v}`, { concurrency: true }, () => {
      it('delivers the retained message to a later subscriber with RETAIN set', opts, async (t) => {
        const { url } = await startBroker(t)
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/a', 'kept', { qos: 1, retain: true })
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('ret/a', { qos: 1 })
        const [m] = await inbox.waitFor(1)
        assert.equal(m?.payload, 'kept')
        assert.equal(m.packet.retain, true, '[MQTT-3.3.1-8] RETAIN set for a new subscription')
        assert.equal(m.packet.qos, 1)
      })

      it('replaces the retained message of a topic with the newer one', opts, async (t) => {
        const { url } = await startBroker(t)
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/b', 'old', { qos: 1, retain: true })
        await pub.publishAsync('ret/b', 'new', { qos: 1, retain: true })
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('ret/b', { qos: 1 })
        await inbox.waitFor(1)
        assert.deepEqual(
          (await inbox.settle(200)).map((m) => m.payload),
          ['new'],
        )
      })

      it('clears the retained message with an empty retained payload', opts, async (t) => {
        const { url } = await startBroker(t)
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/c', 'kept', { qos: 1, retain: true })
        await pub.publishAsync('ret/c', '', { qos: 1, retain: true })
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('ret/c', { qos: 1 })
        assert.deepEqual(await inbox.settle(300), [], '[MQTT-3.3.1-10] nothing retained any more')
      })

      it('forwards the clearing empty message to current subscribers', opts, async (t) => {
        const { url } = await startBroker(t)
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('ret/d', { qos: 1 })
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/d', '', { qos: 1, retain: true })
        const [m] = await inbox.waitFor(1)
        assert.equal(m?.payload, '')
      })

      it('clears RETAIN on delivery to an existing subscription', opts, async (t) => {
        const { url } = await startBroker(t)
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('ret/e', { qos: 1 })
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/e', 'live', { qos: 1, retain: true })
        const [m] = await inbox.waitFor(1)
        assert.equal(m?.packet.retain, false, '[MQTT-3.3.1-9] / [MQTT-3.3.1-12]')
      })

      it(
        'sends every matching retained message to a wildcard subscription, and only those',
        opts,
        async (t) => {
          const { url } = await startBroker(t)
          const pub = await connect(t, url, { protocolVersion })
          for (const topic of [
            'home/kitchen/temp',
            'home/hall/temp',
            'home/hall/hum',
            'office/temp',
          ])
            await pub.publishAsync(topic, topic, { qos: 1, retain: true })
          const plus = await connect(t, url, { protocolVersion })
          const plusInbox = inboxOf(plus)
          await plus.subscribeAsync('home/+/temp', { qos: 1 })
          const hash = await connect(t, url, { protocolVersion })
          const hashInbox = inboxOf(hash)
          await hash.subscribeAsync('home/#', { qos: 1 })
          await plusInbox.waitFor(2)
          await hashInbox.waitFor(3)
          await hashInbox.settle(200)
          assert.deepEqual(plusInbox.messages.map((m) => m.topic).sort(), [
            'home/hall/temp',
            'home/kitchen/temp',
          ])
          assert.deepEqual(hashInbox.messages.map((m) => m.topic).sort(), [
            'home/hall/hum',
            'home/hall/temp',
            'home/kitchen/temp',
          ])
          assert.ok(hashInbox.messages.every((m) => m.packet.retain))
        },
      )

      it(
        'delivers a retained message at the lower of its QoS and the subscription QoS',
        opts,
        async (t) => {
          const { url } = await startBroker(t)
          const pub = await connect(t, url, { protocolVersion })
          await pub.publishAsync('ret/q2', 'two', { qos: 2, retain: true })
          await pub.publishAsync('ret/q0', 'zero', { qos: 0, retain: true })
          const sub = await connect(t, url, { protocolVersion })
          const inbox = inboxOf(sub)
          await sub.subscribeAsync({ 'ret/q2': { qos: 1 }, 'ret/q0': { qos: 2 } })
          const got = await inbox.waitFor(2)
          const byTopic = Object.fromEntries(got.map((m) => [m.topic, m.packet.qos]))
          assert.deepEqual(byTopic, { 'ret/q2': 1, 'ret/q0': 0 })
        },
      )

      it('does not send retained messages to a shared subscription', opts, async (t) => {
        const { url } = await startBroker(t)
        const pub = await connect(t, url, { protocolVersion })
        await pub.publishAsync('ret/shared', 'kept', { qos: 1, retain: true })
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('$share/g/ret/shared', { qos: 1 })
        assert.deepEqual(await inbox.settle(300), [], '[MQTT-4.8.2-?] no retained for $share')
        await pub.publishAsync('ret/shared', 'live', { qos: 1 })
        assert.deepEqual(
          (await inbox.waitFor(1)).map((m) => m.payload),
          ['live'],
        )
      })

      it('keeps retained messages the platform publishes with broker.publish', opts, async (t) => {
        const { url, broker } = await startBroker(t)
        await broker.publish({ topic: 'cfg/dev1', payload: '{"rate":5}', qos: 1, retain: true })
        const sub = await connect(t, url, { protocolVersion })
        const inbox = inboxOf(sub)
        await sub.subscribeAsync('cfg/+', { qos: 1 })
        const [m] = await inbox.waitFor(1)
        assert.equal(m?.payload, '{"rate":5}')
        assert.equal(m.packet.retain, true)
      })
    })
  }
})
