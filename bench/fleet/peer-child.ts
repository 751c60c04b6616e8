// Child process: N bare MQTT.js clients (`mqtt.connect`, one per device), the same keep-alive,
// clean start false with a session expiry, QoS 1, the same payload and period as ours. One shared
// 100 ms tick publishes for the clients whose slot it is, so the figure is the clients' memory,
// not N timers; it catches up on ticks the event loop was late for, so a busy machine does not
// lower the peer's delivered share. Commands over IPC as in ours-child.ts.
import mqtt, { type MqttClient } from 'mqtt'
import { reply, serveParent } from '../ingest/children.js'
import {
  deviceId,
  loadShapeFrom,
  measureMemory,
  telemetryPayload,
  warmUpMqttPacket,
  type LoadShape,
} from './child-memory.js'

const tickMs = 100
const clients: MqttClient[] = []
let ticker: NodeJS.Timeout | undefined
let sent = 0
let acked = 0
let failed = 0

function connectOne(shape: LoadShape, i: number): MqttClient {
  const client = mqtt.connect(shape.url, {
    clientId: deviceId(i),
    protocolVersion: 5,
    clean: false,
    keepalive: shape.keepAliveS,
    properties: { sessionExpiryInterval: shape.sessionExpiryS },
    reconnectPeriod: 1_000,
    connectTimeout: 30_000,
  })
  client.on('error', () => {
    failed++
  })
  return client
}

async function start(shape: LoadShape): Promise<object> {
  const startedAt = performance.now()
  const perTick = Math.max(1, Math.round((shape.connectsPerSecond * tickMs) / 1000))
  // The ramp: `perTick` new clients every tick, as the simulator's ramp spreads them.
  for (let i = 0; i < shape.devices; i += perTick) {
    for (let k = i; k < Math.min(shape.devices, i + perTick); k++)
      clients.push(connectOne(shape, k))
    await new Promise((resolve) => setTimeout(resolve, tickMs))
  }
  const deadline = performance.now() + 60_000
  let connected = 0
  while (performance.now() < deadline) {
    connected = clients.filter((c) => c.connected).length
    if (connected === shape.devices) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const connectS = (performance.now() - startedAt) / 1000
  const slots = Math.max(1, Math.round((shape.periodS * 1000) / tickMs))
  const topicOf = clients.map((_, i) => `strata/v1/devices/${deviceId(i)}/telemetry`)
  const t0 = Date.now()
  let done = 0
  ticker = setInterval(() => {
    const now = Date.now()
    const due = Math.floor((now - t0) / tickMs) + 1
    for (; done < due; done++) {
      for (let i = done % slots; i < clients.length; i += slots) {
        const client = clients[i]
        if (client?.connected !== true) continue
        const temp = Math.round((21 + Math.random() * 4 - 2) * 100) / 100
        sent++
        client.publish(topicOf[i] ?? '', telemetryPayload(now, temp), { qos: 1 }, (err) => {
          if (!(err instanceof Error)) acked++
        })
      }
    }
  }, tickMs)
  return { type: 'connected', connected, connectS, errors: failed > 0 ? { error: failed } : {} }
}

serveParent(
  {
    start: (m) => start(loadShapeFrom(m)),
    measure: async () => {
      const memory = await measureMemory()
      return {
        type: 'measured',
        memory,
        connected: clients.filter((c) => c.connected).length,
        sent,
        acked,
        errors: failed > 0 ? { error: failed } : {},
      }
    },
  },
  async () => {
    clearInterval(ticker)
    await Promise.all(clients.map((c) => c.endAsync()))
  },
)

warmUpMqttPacket()
void measureMemory().then((memory) => reply({ type: 'ready', memory }))
