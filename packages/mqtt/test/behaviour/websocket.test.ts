import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it, type TestContext } from 'node:test'
import mqttPacket from 'mqtt-packet'
import { WebSocket } from 'ws'
import { listenWebSocket } from '../../src/index.js'
import {
  connect,
  defer,
  eventually,
  inboxOf,
  startBroker,
  testTimeoutMs,
  tryConnect,
  type TestBroker,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

/** A broker with both a TCP and a WebSocket listener. */
async function startWsBroker(
  t: TestContext,
): Promise<TestBroker & { wsUrl: string; wsPort: number }> {
  const b = await startBroker(t)
  const ws = await listenWebSocket(b.broker, { port: 0 })
  defer(t, () => ws.close())
  assert.match(ws.url, /^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/)
  return { ...b, wsUrl: ws.url, wsPort: ws.port }
}

describe('MQTT over WebSocket', { concurrency: true }, () => {
  for (const protocolVersion of [4, 5] as const) {
    it(
      `publishes and subscribes at QoS 0, 1 and 2 over ws:// (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
      opts,
      async (t) => {
        const b = await startWsBroker(t)
        const sub = await connect(t, b.wsUrl, { protocolVersion })
        await sub.subscribeAsync('ws/#', { qos: 2 })
        const pub = await connect(t, b.wsUrl, { protocolVersion })
        for (const qos of [0, 1, 2] as const)
          await pub.publishAsync(`ws/q${String(qos)}`, `via ws ${String(qos)}`, { qos })
        const got = await inboxOf(sub).waitFor(3)
        assert.deepEqual(
          got.map((m) => [m.topic, m.payload, m.packet.qos]),
          [
            ['ws/q0', 'via ws 0', 0],
            ['ws/q1', 'via ws 1', 1],
            ['ws/q2', 'via ws 2', 2],
          ],
        )
      },
    )
  }

  it('connects WebSocket and TCP clients to the same broker', opts, async (t) => {
    const b = await startWsBroker(t)
    const wsClient = await connect(t, b.wsUrl, { protocolVersion: 5 })
    const tcpClient = await connect(t, b.url, { protocolVersion: 4 })
    await wsClient.subscribeAsync('bridge/to-ws', { qos: 1 })
    await tcpClient.subscribeAsync('bridge/to-tcp', { qos: 1 })
    await tcpClient.publishAsync('bridge/to-ws', 'from tcp', { qos: 1 })
    await wsClient.publishAsync('bridge/to-tcp', 'from ws', { qos: 1 })
    assert.deepEqual(
      (await inboxOf(wsClient).waitFor(1)).map((m) => m.payload),
      ['from tcp'],
    )
    assert.deepEqual(
      (await inboxOf(tcpClient).waitFor(1)).map((m) => m.payload),
      ['from ws'],
    )
  })

  it('carries a message larger than one WebSocket frame buffer intact', opts, async (t) => {
    const b = await startWsBroker(t)
    const sub = await connect(t, b.wsUrl, { protocolVersion: 5 })
    await sub.subscribeAsync('ws/big', { qos: 1 })
    const pub = await connect(t, b.wsUrl, { protocolVersion: 5 })
    const big = Buffer.alloc(512 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = i % 251
    await pub.publishAsync('ws/big', big, { qos: 1 })
    const [m] = await inboxOf(sub).waitFor(1)
    assert.ok(m !== undefined && Buffer.compare(m.packet.payload as Buffer, big) === 0)
  })

  it('publishes the will of a WebSocket client that vanishes', opts, async (t) => {
    const b = await startWsBroker(t)
    const watcher = await connect(t, b.url, { protocolVersion: 5 })
    await watcher.subscribeAsync('ws/will', { qos: 1 })
    const client = await connect(t, b.wsUrl, {
      protocolVersion: 5,
      will: { topic: 'ws/will', payload: Buffer.from('ws gone'), qos: 1, retain: false },
    })
    client.stream.destroy()
    assert.deepEqual(
      (await inboxOf(watcher).waitFor(1)).map((m) => m.payload),
      ['ws gone'],
    )
  })

  it(
    'ends the connection of a WebSocket client whose socket closes without DISCONNECT',
    opts,
    async (t) => {
      const ended: string[] = []
      const b = await startBroker(t, { hooks: { onDisconnect: (c) => ended.push(c.clientId) } })
      const listener = await listenWebSocket(b.broker, { port: 0 })
      defer(t, () => listener.close())
      // A bare WebSocket: CONNECT, CONNACK, then the TCP connection is cut.
      const ws = new WebSocket(listener.url, 'mqtt')
      defer(t, () => ws.terminate())
      await once(ws, 'open')
      ws.send(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: 'bare',
          clean: true,
          keepalive: 0,
        }),
      )
      const [connack] = (await once(ws, 'message')) as [Buffer]
      assert.equal(connack[0], 0x20, 'CONNACK')
      assert.equal(b.broker.connectionCount, 1)
      ws.terminate()
      await eventually(
        () => b.broker.connectionCount === 0,
        2_000,
        () => `connectionCount is still ${String(b.broker.connectionCount)}`,
      )
      assert.deepEqual(ended, ['bare'])
    },
  )

  it('does not serve MQTT on another path', opts, async (t) => {
    const b = await startWsBroker(t)
    const outcome = await tryConnect(`ws://127.0.0.1:${String(b.wsPort)}/not-mqtt`, {
      protocolVersion: 5,
    })
    assert.equal(outcome.client, undefined)
  })
})
