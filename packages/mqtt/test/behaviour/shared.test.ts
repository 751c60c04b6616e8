import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MqttClient } from 'mqtt'
import {
  connect,
  eventually,
  inboxOf,
  numbered,
  rawConnect,
  sleep,
  startBroker,
  testTimeoutMs,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

function payloadsOf(clients: readonly MqttClient[]): string[] {
  return clients.flatMap((c) => inboxOf(c).payloads)
}

describe('shared subscriptions', { concurrency: true }, () => {
  it('gives each message to exactly one member, and each member a fair share', opts, async (t) => {
    const b = await startBroker(t)
    const members = [
      await connect(t, b.url, { protocolVersion: 5 }),
      await connect(t, b.url, { protocolVersion: 5 }),
      await connect(t, b.url, { protocolVersion: 4 }),
    ]
    for (const m of members) await m.subscribeAsync('$share/workers/jobs/#', { qos: 1 })
    const pub = await connect(t, b.url, { protocolVersion: 5 })
    const sent = numbered(300)
    for (const [i, payload] of sent.entries())
      await pub.publishAsync(`jobs/${String(i % 7)}`, payload, { qos: (i % 2) as 0 | 1 })
    await eventually(() => payloadsOf(members).length >= sent.length, 5_000, 'all delivered')
    await sleep(200)
    const got = payloadsOf(members)
    assert.equal(got.length, sent.length, 'no message twice')
    assert.deepEqual([...got].sort(), [...sent].sort(), 'no message lost')
    const shares = members.map((m) => inboxOf(m).messages.length)
    for (const share of shares)
      assert.ok(share >= 60, `shares ${shares.join('/')} are roughly fair`)
  })

  it('gives every message to each group, and to plain subscribers alongside', opts, async (t) => {
    const b = await startBroker(t)
    const groupA = [
      await connect(t, b.url, { protocolVersion: 5 }),
      await connect(t, b.url, { protocolVersion: 5 }),
    ]
    const groupB = [
      await connect(t, b.url, { protocolVersion: 5 }),
      await connect(t, b.url, { protocolVersion: 4 }),
    ]
    for (const m of groupA) await m.subscribeAsync('$share/a/evt/+', { qos: 1 })
    for (const m of groupB) await m.subscribeAsync('$share/b/evt/#', { qos: 2 })
    const plain = await connect(t, b.url, { protocolVersion: 5 })
    await plain.subscribeAsync('evt/+', { qos: 1 })
    const pub = await connect(t, b.url, { protocolVersion: 5 })
    const sent = numbered(60)
    for (const payload of sent) await pub.publishAsync('evt/x', payload, { qos: 1 })
    await eventually(
      () =>
        payloadsOf(groupA).length >= 60 &&
        payloadsOf(groupB).length >= 60 &&
        inboxOf(plain).messages.length >= 60,
      5_000,
      'every group and the plain subscriber got everything',
    )
    await sleep(200)
    assert.deepEqual([...payloadsOf(groupA)].sort(), [...sent].sort())
    assert.deepEqual([...payloadsOf(groupB)].sort(), [...sent].sort())
    assert.deepEqual(inboxOf(plain).payloads, sent, 'the plain subscriber in order')
  })

  it('stops sending to a member that unsubscribed or left', opts, async (t) => {
    const b = await startBroker(t)
    const stays = await connect(t, b.url, { protocolVersion: 5 })
    const unsubscribes = await connect(t, b.url, { protocolVersion: 5 })
    const leaves = await connect(t, b.url, { protocolVersion: 5 })
    for (const m of [stays, unsubscribes, leaves])
      await m.subscribeAsync('$share/g/leave/t', { qos: 1 })
    await unsubscribes.unsubscribeAsync('$share/g/leave/t')
    await leaves.endAsync()
    await eventually(() => b.broker.connectionCount === 2, 2_000, 'left')
    const pub = await connect(t, b.url, { protocolVersion: 5 })
    for (const payload of numbered(10)) await pub.publishAsync('leave/t', payload, { qos: 1 })
    await inboxOf(stays).waitFor(10)
    assert.deepEqual(inboxOf(unsubscribes).messages, [])
  })

  it(
    'sends new messages to online members rather than to an offline persistent one',
    opts,
    async (t) => {
      const b = await startBroker(t)
      const session = {
        protocolVersion: 5,
        clientId: 'sleeper',
        clean: false,
        properties: { sessionExpiryInterval: 60 },
      } as const
      const sleeper = await connect(t, b.url, session)
      await sleeper.subscribeAsync('$share/g/off/t', { qos: 1 })
      await sleeper.endAsync()
      const awake = await connect(t, b.url, { protocolVersion: 5 })
      await awake.subscribeAsync('$share/g/off/t', { qos: 1 })
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      const sent = numbered(10)
      for (const payload of sent) await pub.publishAsync('off/t', payload, { qos: 1 })
      await inboxOf(awake).waitFor(10)
      assert.deepEqual(inboxOf(awake).payloads, sent)
    },
  )

  it(
    'gives the messages a dropped member had not acknowledged to another member',
    opts,
    async (t) => {
      const b = await startBroker(t)
      // A member that takes messages and never acknowledges them, then dies (clean session).
      const { client: stuck } = await rawConnect(t, b.port, {
        protocolVersion: 5,
        clientId: 'stuck',
        properties: { receiveMaximum: 2 },
      })
      stuck.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: '$share/g/work/t', qos: 1 }],
      })
      await stuck.next('suback')
      const healthy = [
        await connect(t, b.url, { protocolVersion: 5 }),
        await connect(t, b.url, { protocolVersion: 5 }),
      ]
      for (const m of healthy) await m.subscribeAsync('$share/g/work/t', { qos: 1 })
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      const sent = numbered(30)
      for (const payload of sent) await pub.publishAsync('work/t', payload, { qos: 1 })
      await sleep(200)
      const heldByStuck = stuck.all('publish').map((p) => p.payload.toString())
      assert.ok(heldByStuck.length > 0, 'the stuck member got some messages')
      stuck.destroy()
      // MQTT 5 §4.8.2: when the chosen member's session ends before it acknowledged, the message
      // SHOULD go to another member; a broker that drops it loses QoS 1 work items.
      await eventually(
        () => new Set(payloadsOf(healthy)).size >= sent.length,
        2_000,
        () =>
          `all 30 reach a healthy member; the stuck one held ${heldByStuck.join(',')} in flight ` +
          `or queued; missing ${sent.filter((p) => !payloadsOf(healthy).includes(p)).join(',')}`,
      )
    },
  )

  it('refuses malformed share names and No Local on a shared subscription', opts, async (t) => {
    const b = await startBroker(t)
    // MQTT.js refuses to send these filters: a raw client does.
    const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5 })
    raw.send({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [
        { topic: '$share/g+/t', qos: 0 },
        { topic: '$share/g', qos: 0 },
        { topic: '$share/ok/t', qos: 0 },
      ],
    })
    assert.deepEqual(
      (await raw.next('suback')).granted,
      [0x8f, 0x8f, 0],
      '[MQTT-4.8.2-1], [MQTT-4.8.2-2]',
    )
    raw.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true }],
    })
    assert.equal((await raw.next('disconnect')).reasonCode, 0x82, '[MQTT-3.8.3-4]')
  })
})
