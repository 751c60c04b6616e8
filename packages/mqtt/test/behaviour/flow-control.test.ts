import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  connect,
  eventually,
  inboxOf,
  numbered,
  rawConnect,
  sleep,
  startBroker,
  testTimeoutMs,
  type RawClient,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

/** Subscribes a raw client to `topic` at `qos` and waits for the SUBACK. */
async function subscribeRaw(raw: RawClient, topic: string, qos: 0 | 1 | 2): Promise<void> {
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  await raw.next('suback')
}

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('flow control', { concurrency: true }, () => {
  describe('receive maximum towards the client', { concurrency: true }, () => {
    it(
      'never has more unacknowledged QoS 1 messages in flight than the client Receive Maximum',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const { client: raw } = await rawConnect(t, b.port, {
          protocolVersion: 5,
          properties: { receiveMaximum: 3 },
        })
        await subscribeRaw(raw, 'rm/t', 1)
        const pub = await connect(t, b.url, { protocolVersion: 5 })
        const sent = numbered(20)
        for (const payload of sent) await pub.publishAsync('rm/t', payload, { qos: 1 })
        await sleep(300)
        const firstWindow = raw.take('publish')
        assert.equal(firstWindow.length, 3, 'only Receive Maximum messages before any PUBACK')
        raw.send({ cmd: 'puback', messageId: firstWindow[0]!.messageId! })
        await sleep(200)
        const afterOneAck = raw.take('publish')
        assert.equal(afterOneAck.length, 1, 'one PUBACK opens one slot')
        // Now acknowledge slowly, one at a time, and watch the window.
        const outstanding = new Set<number>(
          [...firstWindow.slice(1), ...afterOneAck].map((p) => p.messageId!),
        )
        const order = [...firstWindow, ...afterOneAck].map((p) => p.payload.toString())
        let maxOutstanding = outstanding.size
        while (order.length < sent.length || outstanding.size > 0) {
          const [oldest] = outstanding
          if (oldest !== undefined) {
            await sleep(5)
            outstanding.delete(oldest)
            raw.send({ cmd: 'puback', messageId: oldest })
          }
          if (order.length < sent.length) {
            const next = await raw.next('publish')
            order.push(next.payload.toString())
            outstanding.add(next.messageId!)
            maxOutstanding = Math.max(maxOutstanding, outstanding.size)
          }
        }
        assert.ok(maxOutstanding <= 3, `at most 3 in flight, saw ${String(maxOutstanding)}`)
        assert.deepEqual(order, sent, 'all delivered, in order')
      },
    )

    it('counts a QoS 2 message against the window until its PUBCOMP', opts, async (t) => {
      const b = await startBroker(t)
      const { client: raw } = await rawConnect(t, b.port, {
        protocolVersion: 5,
        properties: { receiveMaximum: 2 },
      })
      await subscribeRaw(raw, 'rm/q2', 2)
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      for (const payload of numbered(6)) await pub.publishAsync('rm/q2', payload, { qos: 2 })
      await sleep(200)
      const window = raw.take('publish')
      assert.equal(window.length, 2)
      for (const p of window) raw.send({ cmd: 'pubrec', messageId: p.messageId! })
      await raw.next('pubrel')
      await raw.next('pubrel')
      await sleep(200)
      assert.equal(raw.take('publish').length, 0, 'PUBREC does not free the slot')
      raw.send({ cmd: 'pubcomp', messageId: window[0]!.messageId! })
      await sleep(200)
      const next = raw.take('publish')
      assert.deepEqual(
        next.map((p) => p.payload.toString()),
        ['m2'],
        'PUBCOMP frees one slot',
      )
    })

    for (const protocolVersion of [4, 5] as const) {
      it(
        `limits a client that names no Receive Maximum to maxInflightOut (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, { settings: { limits: { maxInflightOut: 5 } } })
          const { client: raw } = await rawConnect(t, b.port, { protocolVersion })
          await subscribeRaw(raw, 'rm/default', 1)
          const pub = await connect(t, b.url, { protocolVersion: 5 })
          for (const payload of numbered(20))
            await pub.publishAsync('rm/default', payload, { qos: 1 })
          await sleep(300)
          assert.equal(raw.take('publish').length, 5, 'BrokerLimits.maxInflightOut')
        },
      )
    }
  })

  describe('receive maximum towards the broker', { concurrency: true }, () => {
    it(
      'advertises its Receive Maximum and disconnects a client that exceeds it with 0x93',
      opts,
      async (t) => {
        let release: () => void = () => undefined
        const gate = new Promise<undefined>((resolve) => {
          release = () => resolve(undefined)
        })
        t.after(() => release())
        const b = await startBroker(t, {
          settings: { limits: { receiveMaximum: 2 } },
          // Hold every message in the hook so that no PUBACK goes out.
          hooks: { onPublish: () => gate },
        })
        const { client: raw, connack } = await rawConnect(t, b.port, { protocolVersion: 5 })
        assert.equal(connack.properties?.receiveMaximum, 2)
        raw.publish('in/t', 'a', 1, 1)
        raw.publish('in/t', 'b', 1, 2)
        raw.publish('in/t', 'c', 1, 3)
        assert.equal((await raw.next('disconnect')).reasonCode, 0x93, '[MQTT-3.3.4-7]')
        await raw.waitClosed()
      },
    )
  })

  describe('slow consumers', { concurrency: true }, () => {
    it(
      'disconnects a client that stops reading, without holding up the others',
      { timeout: 30_000 },
      async (t) => {
        const reasons: string[] = []
        const b = await startBroker(t, {
          settings: { limits: { maxWriteBufferBytes: 256 * 1024 } },
          hooks: { onDisconnect: (client, why) => reasons.push(`${client.clientId}: ${why}`) },
        })
        const { client: slow } = await rawConnect(t, b.port, {
          protocolVersion: 4,
          clientId: 'slow',
        })
        await subscribeRaw(slow, 'flood/t', 0)
        slow.socket.pause()
        const fast = await connect(t, b.url, { protocolVersion: 4, clientId: 'fast' })
        await fast.subscribeAsync('flood/t', { qos: 0 })
        const pub = await connect(t, b.url, { protocolVersion: 4, clientId: 'pub' })
        const chunk = Buffer.alloc(64 * 1024, 0x61)
        const count = 400
        for (let i = 0; i < count; i++) {
          await pub.publishAsync('flood/t', chunk, { qos: 1 })
          if (reasons.some((r) => r.startsWith('slow:'))) break
        }
        await eventually(() => reasons.some((r) => r.startsWith('slow:')), 3_000, 'slow client cut')
        assert.match(reasons.find((r) => r.startsWith('slow:')) ?? '', /slow/)
        await pub.publishAsync('flood/t', 'after', { qos: 1 })
        await eventually(
          () => inboxOf(fast).messages.at(-1)?.payload === 'after',
          5_000,
          'the fast subscriber keeps receiving',
        )
      },
    )

    it(
      'routes the message during which a slow client with a will is cut to every other subscriber, and only that message',
      { timeout: 30_000 },
      async (t) => {
        const b = await startBroker(t, { settings: { limits: { maxWriteBufferBytes: 64 * 1024 } } })
        // The slow client subscribes first, so routing reaches it before the others.
        const { client: slow } = await rawConnect(t, b.port, {
          protocolVersion: 4,
          clientId: 'slow-with-will',
          will: { topic: 'alert/slow', payload: Buffer.from('slow gone'), qos: 0, retain: false },
        })
        await subscribeRaw(slow, 'flood/w', 0)
        slow.socket.pause()
        const fast = [
          await connect(t, b.url, { protocolVersion: 4 }),
          await connect(t, b.url, { protocolVersion: 5 }),
        ]
        for (const f of fast) await f.subscribeAsync('flood/w', { qos: 0 })
        const watcher = await connect(t, b.url, { protocolVersion: 5 })
        await watcher.subscribeAsync('alert/#', { qos: 0 })
        const pub = await connect(t, b.url, { protocolVersion: 4 })
        const chunk = Buffer.alloc(64 * 1024, 0x62)
        let published = 0
        while (inboxOf(watcher).messages.length === 0 && published < 400) {
          await pub.publishAsync('flood/w', chunk, { qos: 1 })
          published++
        }
        assert.deepEqual(inboxOf(watcher).payloads, ['slow gone'], 'the will went out')
        await pub.publishAsync('flood/w', 'end', { qos: 1 })
        for (const f of fast) {
          await eventually(() => inboxOf(f).messages.at(-1)?.payload === 'end', 5_000, 'end marker')
          const topics = inboxOf(f).messages.map((m) => m.topic)
          // Routing must not re-enter itself: the will published while routing a flood message
          // went to this non-subscriber, and the rest of that message's subscribers were skipped.
          assert.deepEqual(
            {
              foreign: topics.filter((x) => x !== 'flood/w'),
              flood: topics.filter((x) => x === 'flood/w').length,
            },
            { foreign: [], flood: published + 1 },
          )
        }
      },
    )

    it(
      'does not take a burst of queued messages on reconnect for a slow client',
      opts,
      async (t) => {
        const ended: string[] = []
        const b = await startBroker(t, {
          settings: { limits: { maxWriteBufferBytes: 256 * 1024 } },
          hooks: { onDisconnect: (c, why) => ended.push(`${c.clientId}: ${why}`) },
        })
        const session = {
          protocolVersion: 5,
          clientId: 'burst',
          clean: false,
          properties: { sessionExpiryInterval: 60 },
        } as const
        const first = await connect(t, b.url, session)
        await first.subscribeAsync('burst/t', { qos: 1 })
        await first.endAsync()
        await eventually(() => b.broker.connectionCount === 0, 2_000, 'offline')
        const pub = await connect(t, b.url, { protocolVersion: 5 })
        const chunk = Buffer.alloc(10 * 1024, 0x63)
        for (let i = 0; i < 60; i++) await pub.publishAsync('burst/t', chunk, { qos: 1 })
        ended.length = 0
        // 600 KiB owed to a client that reads as fast as it can.
        const back = await connect(t, b.url, session)
        back.on('error', () => undefined)
        await eventually(
          () => inboxOf(back).messages.length >= 60 || ended.some((e) => e.startsWith('burst:')),
          5_000,
          'delivered or cut',
        )
        assert.deepEqual(
          ended.filter((e) => e.startsWith('burst:')),
          [],
          'the fast client was not cut',
        )
        assert.equal(inboxOf(back).messages.length, 60)
      },
    )

    it(
      'does not take the retained messages of a wildcard subscription for a slow client',
      opts,
      async (t) => {
        const ended: string[] = []
        const b = await startBroker(t, {
          settings: { limits: { maxWriteBufferBytes: 256 * 1024 } },
          hooks: { onDisconnect: (c, why) => ended.push(`${c.clientId}: ${why}`) },
        })
        const pub = await connect(t, b.url, { protocolVersion: 5 })
        const chunk = Buffer.alloc(10 * 1024, 0x64)
        for (let i = 0; i < 60; i++)
          await pub.publishAsync(`state/${String(i)}`, chunk, { qos: 1, retain: true })
        const sub = await connect(t, b.url, { protocolVersion: 5, clientId: 'dashboard' })
        sub.on('error', () => undefined)
        await sub.subscribeAsync('state/#', { qos: 0 })
        await eventually(
          () => inboxOf(sub).messages.length >= 60 || ended.length > 0,
          5_000,
          'delivered or cut',
        )
        assert.deepEqual(ended, [], 'the subscriber was not cut')
        assert.equal(inboxOf(sub).messages.length, 60)
      },
    )
  })
})
