/** Packet builders and clients the replayed-crash tests share. */
import WebSocket, { createWebSocketStream } from 'ws'
import { encode } from '../conformance/packets.js'
import { RawClient } from '../conformance/raw-client.js'
import { mqttClient } from './brokers.js'
import type { ChildBroker } from './child-broker.js'

export const MiB = 1024 * 1024
export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

export function publish(
  version: 4 | 5,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 | 2 = 0,
  messageId = 1,
  retain = false,
) {
  return encode({ cmd: 'publish', topic, payload, qos, messageId, retain, dup: false }, version)
}

export function subscribe(version: 4 | 5, topic: string, qos: 0 | 1 | 2 = 0, messageId = 1) {
  return encode({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }, version)
}

/** A v5 client on "#" that takes no retained messages (Retain Handling 2): it sees only new traffic. */
export async function tap(broker: ChildBroker, clientId: string): Promise<RawClient> {
  const c = await mqttClient(broker, 5, { clientId })
  c.send(
    encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0, rh: 2 }] }, 5),
  )
  await c.expect('90 04 00 01 00 00')
  return c
}

/** Publishes with a fresh v4 client and waits for PUBACK. */
export async function publishQos1(
  broker: ChildBroker,
  clientId: string,
  topic: string,
  payload: string,
  retain = false,
) {
  const p = await mqttClient(broker, 4, { clientId })
  p.send(publish(4, topic, payload, 1, 5, retain))
  await p.expect('40 02 00 05')
  await p.destroyed()
}

/** A WebSocket connection to the broker, as a raw client, plus the socket for odd frames. */
export async function openWebSocket(
  broker: ChildBroker,
): Promise<{ ws: WebSocket; client: RawClient }> {
  const ws = new WebSocket(`ws://127.0.0.1:${String(broker.wsPort)}/mqtt`, 'mqtt')
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const stream = createWebSocketStream(ws)
  // ws's stream emits no 'close' of its own when the socket goes: make it, so expectClosed sees it.
  ws.on('close', () => stream.destroy())
  return { ws, client: RawClient.fromStream(stream) }
}
