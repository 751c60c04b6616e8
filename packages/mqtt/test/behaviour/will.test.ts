import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { MqttClient } from 'mqtt'
import {
  inboxOf,
  type Inbox,
  connect,
  nextEvent,
  rawConnect,
  sleep,
  startBroker,
  testTimeoutMs,
  tryConnect,
  type TestBroker,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

/** A v5 client watching `will/#`, subscribed before the test's client connects. */
async function watchWills(t: TestContext, url: string): Promise<Inbox> {
  const watcher = await connect(t, url, { protocolVersion: 5 })
  const inbox = inboxOf(watcher)
  await watcher.subscribeAsync('will/#', { qos: 1 })
  return inbox
}

/** Cuts the client's TCP connection without a DISCONNECT, as a crash or network loss would. */
function dropConnection(client: MqttClient): void {
  client.stream.destroy()
}

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('wills', { concurrency: true }, () => {
  for (const protocolVersion of [4, 5] as const) {
    const v = protocolVersion === 4 ? '3.1.1' : '5'
    describe(`wills, MQTT ${v}`, { concurrency: true }, () => {
      it('publishes the will when the connection drops without DISCONNECT', opts, async (t) => {
        const { url } = await startBroker(t)
        const wills = await watchWills(t, url)
        const client = await connect(t, url, {
          protocolVersion,
          will: { topic: 'will/dev1', payload: Buffer.from('gone'), qos: 1, retain: false },
        })
        dropConnection(client)
        const [m] = await wills.waitFor(1)
        assert.equal(m?.topic, 'will/dev1')
        assert.equal(m.payload, 'gone')
        assert.equal(m.packet.qos, 1)
      })

      it('does not publish the will after a normal DISCONNECT', opts, async (t) => {
        const { url } = await startBroker(t)
        const wills = await watchWills(t, url)
        const client = await connect(t, url, {
          protocolVersion,
          will: { topic: 'will/dev2', payload: Buffer.from('gone'), qos: 1, retain: false },
        })
        await client.endAsync()
        assert.deepEqual(
          await wills.settle(400),
          [],
          '[MQTT-3.14.4-3] DISCONNECT discards the will',
        )
      })

      it('publishes the will when the keep-alive runs out', opts, async (t) => {
        const { url, port } = await startBroker(t)
        const wills = await watchWills(t, url)
        const { client } = await rawConnect(t, port, {
          protocolVersion,
          keepalive: 1,
          will: { topic: 'will/silent', payload: Buffer.from('timeout'), qos: 0, retain: false },
        })
        // Say nothing: after 1.5 × keep-alive the broker must close and publish the will.
        const [m] = await wills.waitFor(1, 3_000)
        assert.equal(m?.payload, 'timeout')
        await client.waitClosed(1_000)
      })

      it('retains a will published with the retain flag', opts, async (t) => {
        const { url } = await startBroker(t)
        const client = await connect(t, url, {
          protocolVersion,
          will: {
            topic: 'will/status/dev3',
            payload: Buffer.from('offline'),
            qos: 1,
            retain: true,
          },
        })
        const wills = await watchWills(t, url)
        dropConnection(client)
        await wills.waitFor(1)
        const late = await connect(t, url, { protocolVersion })
        const lateInbox = inboxOf(late)
        await late.subscribeAsync('will/status/+', { qos: 1 })
        const [m] = await lateInbox.waitFor(1)
        assert.equal(m?.payload, 'offline')
        assert.equal(m.packet.retain, true)
      })

      it('publishes the will of a connection taken over by the same client id', opts, async (t) => {
        const { url } = await startBroker(t)
        const wills = await watchWills(t, url)
        const first = await connect(t, url, {
          protocolVersion,
          clientId: 'twin',
          will: { topic: 'will/twin', payload: Buffer.from('taken over'), qos: 1, retain: false },
        })
        first.on('error', () => undefined)
        await connect(t, url, { protocolVersion, clientId: 'twin' })
        // MQTT 5 §3.1.4 step 2: the existing connection is closed and its will published (§3.1.2.5);
        // the 3.1.1 broker closes it without DISCONNECT, which also publishes the will.
        const [m] = await wills.waitFor(1)
        assert.equal(m?.payload, 'taken over')
      })

      it('refuses a will on a topic the client may not publish to', opts, async (t) => {
        const { url } = await startBroker(t, {
          hooks: {
            authorizePublish: (_c, topic) =>
              topic.startsWith('will/forbidden') ? { allowed: false } : { allowed: true },
          },
        })
        const outcome = await tryConnect(url, {
          protocolVersion,
          will: { topic: 'will/forbidden', payload: Buffer.from('x'), qos: 0, retain: false },
        })
        assert.equal(outcome.client, undefined)
        assert.equal(outcome.error?.code, protocolVersion === 5 ? 0x87 : 5)
      })
    })
  }

  describe('wills, MQTT 5 only', { concurrency: true }, () => {
    it('publishes the will on DISCONNECT with reason 0x04', opts, async (t) => {
      const { url } = await startBroker(t)
      const wills = await watchWills(t, url)
      const client = await connect(t, url, {
        protocolVersion: 5,
        will: { topic: 'will/bye', payload: Buffer.from('with will'), qos: 0, retain: false },
      })
      await client.endAsync({ reasonCode: 0x04 })
      const [m] = await wills.waitFor(1)
      assert.equal(m?.payload, 'with will')
    })

    it('carries the will properties to subscribers', opts, async (t) => {
      const { url } = await startBroker(t)
      const wills = await watchWills(t, url)
      const client = await connect(t, url, {
        protocolVersion: 5,
        will: {
          topic: 'will/props',
          payload: Buffer.from('{}'),
          qos: 1,
          retain: false,
          properties: {
            contentType: 'application/json',
            userProperties: { site: 'north' },
            responseTopic: 'reply/here',
            correlationData: Buffer.from('c1'),
          },
        },
      })
      dropConnection(client)
      const [m] = await wills.waitFor(1)
      assert.equal(m?.packet.properties?.contentType, 'application/json')
      assert.deepEqual({ ...m.packet.properties.userProperties }, { site: 'north' })
      assert.equal(m.packet.properties.responseTopic, 'reply/here')
      assert.equal(m.packet.properties.correlationData?.toString(), 'c1')
    })

    async function delayedWillClient(
      t: TestContext,
      b: TestBroker,
      clientId: string,
      delaySec: number,
      expirySec: number,
    ): Promise<MqttClient> {
      return connect(t, b.url, {
        protocolVersion: 5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: expirySec },
        will: {
          topic: `will/${clientId}`,
          payload: Buffer.from('late'),
          qos: 1,
          retain: false,
          properties: { willDelayInterval: delaySec },
        },
      })
    }

    it('waits the will delay before publishing the will', opts, async (t) => {
      const b = await startBroker(t)
      const wills = await watchWills(t, b.url)
      const client = await delayedWillClient(t, b, 'delayed', 2, 60)
      const droppedAt = Date.now()
      dropConnection(client)
      assert.deepEqual(await wills.settle(1_200), [], 'nothing before the delay')
      const [m] = await wills.waitFor(1, 2_500)
      const waited = Date.now() - droppedAt
      assert.equal(m?.payload, 'late')
      assert.ok(waited >= 1_900 && waited < 3_500, `published after ${String(waited)} ms`)
    })

    it('cancels a delayed will when the client reconnects in time', opts, async (t) => {
      const b = await startBroker(t)
      const wills = await watchWills(t, b.url)
      const client = await delayedWillClient(t, b, 'back', 2, 60)
      dropConnection(client)
      await sleep(500)
      const again = await connect(t, b.url, {
        protocolVersion: 5,
        clientId: 'back',
        clean: false,
        properties: { sessionExpiryInterval: 60 },
      })
      assert.equal(again.connected, true)
      assert.deepEqual(await wills.settle(2_500), [], '[MQTT-3.1.3-9] no will after reconnecting')
    })

    it('publishes a delayed will when the session expires first', opts, async (t) => {
      const b = await startBroker(t)
      const wills = await watchWills(t, b.url)
      const client = await delayedWillClient(t, b, 'short', 30, 1)
      const droppedAt = Date.now()
      dropConnection(client)
      // MQTT 5 §3.1.3.2.2: the will goes out at the delay or the session's end, whichever is first.
      const [m] = await wills.waitFor(1, 3_000)
      assert.equal(m?.payload, 'late')
      assert.ok(Date.now() - droppedAt < 2_900)
    })

    it('publishes the will at once when the session ends with the connection', opts, async (t) => {
      const b = await startBroker(t)
      const wills = await watchWills(t, b.url)
      const client = await delayedWillClient(t, b, 'nosession', 30, 0)
      dropConnection(client)
      const [m] = await wills.waitFor(1, 1_000)
      assert.equal(m?.payload, 'late')
    })

    it(
      'publishes the will when the server cuts the client with disconnectIdentity',
      opts,
      async (t) => {
        const b = await startBroker(t)
        const wills = await watchWills(t, b.url)
        const client = await connect(t, b.url, {
          protocolVersion: 5,
          username: 'revoked',
          will: { topic: 'will/revoked', payload: Buffer.from('x'), qos: 0, retain: false },
        })
        const disconnect = nextEvent(client, 'disconnect')
        assert.equal(b.broker.disconnectIdentity('revoked'), 1)
        await disconnect
        // [MQTT-3.1.2-8] only a DISCONNECT 0x00 from the client (or a reconnect within the will
        // delay) deletes the will; a connection the server closes publishes it.
        const [m] = await wills.waitFor(1, 1_000)
        assert.equal(m?.topic, 'will/revoked')
      },
    )
  })
})
