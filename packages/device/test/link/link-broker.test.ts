/**
 * The thin MQTT client against our broker in-process (@strata/mqtt on port 0): connect, QoS 1
 * publish and PUBACK reason codes, subscribe and receive, the persistent session across
 * connections, CONNACK refusals, on MQTT 5 and 3.1.1.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createBroker, listenTcp, type BrokerHooks, type PublishVerdict } from '@strata/mqtt'
import { eventually, makeLink } from './link-helpers.js'

const opts = { timeout: 15_000 }

async function startBroker(
  t: TestContext,
  hooks: Partial<BrokerHooks> = {},
): Promise<{ port: number; publish: (topic: string, payload: string) => Promise<void> }> {
  const broker = await createBroker(
    {
      hooks: {
        authenticate: (c) => ({ ok: true, identity: { id: c.username ?? c.clientId } }),
        ...hooks,
      },
    },
    { sysIntervalSec: 0 },
  )
  const listener = await listenTcp(broker, { port: 0 })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return {
    port: listener.port,
    publish: (topic, payload) => broker.publish({ topic, payload, qos: 1 }),
  }
}

for (const version of [5, 4] as const) {
  describe(`link on MQTT ${version === 5 ? '5' : '3.1.1'}`, () => {
    it('connects, publishes at QoS 1 and hears the PUBACK', opts, async (t) => {
      const seen: string[] = []
      const { port } = await startBroker(t, {
        onPublish: (_c, m) => {
          seen.push(`${m.topic}=${Buffer.from(m.payload).toString()}`)
          return undefined
        },
      })
      const { link, rec } = makeLink(t, port, { protocolVersion: version })
      assert.equal(link.connect(), true)
      assert.equal(link.connect(), false, 'a second connect while one is open does nothing')
      await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
      const id = link.publish('a/b', Buffer.from('hello'), 1)
      assert.ok(id > 0)
      assert.equal(link.inflightCount, 1)
      await eventually(() => rec.pubacks.length === 1, 3_000, 'PUBACK')
      assert.deepEqual(rec.pubacks[0], { id, code: 0, reason: undefined })
      assert.equal(link.inflightCount, 0)
      assert.equal(link.publish('a/c', Buffer.from('q0'), 0), 0)
      await eventually(() => seen.length === 2, 3_000, 'the QoS 0 message')
      assert.deepEqual(seen, ['a/b=hello', 'a/c=q0'])
    })

    it('subscribes and receives QoS 1 messages, acknowledging them', opts, async (t) => {
      const { port, publish } = await startBroker(t)
      const { link, rec } = makeLink(t, port, { protocolVersion: version })
      link.connect()
      await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
      const subId = link.subscribe([
        { topic: 'cmd/+', qos: 1 },
        { topic: 'twin', qos: 0 },
      ])
      await eventually(() => rec.subacks.length === 1, 3_000, 'SUBACK')
      assert.deepEqual(rec.subacks[0], { id: subId, granted: [1, 0] })
      await publish('cmd/reboot', '{"id":"c1"}')
      await eventually(() => rec.messages.length === 1, 3_000, 'the message')
      const message = rec.messages[0]!
      assert.equal(message.topic, 'cmd/reboot')
      assert.equal(message.qos, 1)
      assert.equal(Buffer.from(message.payload).toString(), '{"id":"c1"}')
    })

    it(
      'keeps its session: what is published while it is away arrives on reconnect',
      opts,
      async (t) => {
        const { port, publish } = await startBroker(t)
        const { link, rec } = makeLink(t, port, { protocolVersion: version })
        link.connect()
        await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
        assert.equal(rec.ups[0]!.sessionPresent, false)
        link.subscribe([{ topic: 'inbox', qos: 1 }])
        await eventually(() => rec.subacks.length === 1, 3_000, 'SUBACK')
        assert.equal(link.disconnect(), true)
        await eventually(() => rec.downs.length === 1, 3_000, 'the close')
        assert.equal(rec.downs[0]!.cause, 'local')
        assert.equal(rec.downs[0]!.wasConnected, true)
        await publish('inbox', 'while-away-1')
        await publish('inbox', 'while-away-2')
        assert.equal(link.connect(), true)
        await eventually(() => rec.messages.length === 2, 3_000, 'the queued messages')
        assert.equal(rec.ups[1]!.sessionPresent, true)
        assert.deepEqual(
          rec.messages.map((m) => Buffer.from(m.payload).toString()),
          ['while-away-1', 'while-away-2'],
        )
      },
    )

    it('surfaces a CONNACK refusal with its code', opts, async (t) => {
      const { port } = await startBroker(t, {
        authenticate: () => ({ ok: false, reasonCode: 0x86, reason: 'bad token' }),
      })
      const { link, rec } = makeLink(t, port, {
        protocolVersion: version,
        auth: { kind: 'password', username: 'dev-1', password: 'wrong' },
      })
      link.connect()
      await eventually(() => rec.downs.length === 1, 3_000, 'the refusal')
      const down = rec.downs[0]!
      assert.equal(down.cause, 'connack')
      // 3.1.1 has return code 4 (bad user name or password) where 5 has 0x86.
      assert.equal(down.reasonCode, version === 5 ? 0x86 : 4)
      assert.equal(down.wasConnected, false)
      assert.equal(rec.ups.length, 0)
    })
  })
}

describe('link on MQTT 5 only', () => {
  it('surfaces PUBACK refusal codes and reason strings', opts, async (t) => {
    let verdict: PublishVerdict = { reasonCode: 0x99, reason: 'not JSON' }
    const { port } = await startBroker(t, { onPublish: () => verdict })
    const { link, rec } = makeLink(t, port)
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    link.publish('t', Buffer.from('x'), 1)
    await eventually(() => rec.pubacks.length === 1, 3_000, 'PUBACK')
    assert.equal(rec.pubacks[0]!.code, 0x99)
    assert.equal(rec.pubacks[0]!.reason, 'not JSON')
    verdict = 0x97
    link.publish('t', Buffer.from('y'), 1)
    await eventually(() => rec.pubacks.length === 2, 3_000, 'PUBACK')
    assert.equal(rec.pubacks[1]!.code, 0x97)
  })

  it('hears the server DISCONNECT reason code when it is cut', opts, async (t) => {
    const broker = await createBroker(
      { hooks: { authenticate: (c) => ({ ok: true, identity: { id: c.clientId } }) } },
      { sysIntervalSec: 0 },
    )
    const listener = await listenTcp(broker, { port: 0 })
    t.after(async () => {
      await listener.close()
      await broker.close()
    })
    const { link, rec } = makeLink(t, listener.port, { clientId: 'victim' })
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    assert.equal(broker.disconnectIdentity('victim', { reasonCode: 0x8e }), 1)
    await eventually(() => rec.downs.length === 1, 3_000, 'the disconnect')
    assert.equal(rec.downs[0]!.cause, 'server-disconnect')
    assert.equal(rec.downs[0]!.reasonCode, 0x8e)
  })
})
