// Child process: N simulated devices of ours (createFleet, the thin link on mqtt-packet), each
// sending one QoS 1 telemetry message per period. Commands from the parent over IPC: `start`
// (ramp; answers `connected` once all are), `measure` (memory after GC, counters), `close`.
import { createFleet, type Fleet, type SimProfile } from '@strata/device'
import { reply, serveParent } from '../ingest/children.js'
import {
  deviceId,
  loadShapeFrom,
  measureMemory,
  warmUpMqttPacket,
  type LoadShape,
} from './child-memory.js'

let fleet: Fleet | undefined

function profileFor(shape: LoadShape): SimProfile {
  return {
    name: 'bench',
    reportEveryS: shape.periodS,
    readingsPerMessage: 1,
    format: 'json',
    qos: 1,
    timestamps: true,
    // One float: the record `{"ts":…,"values":{"temp":21.53}}`, the peer's payload too.
    signals: { temp: { type: 'float', base: 21, spread: 2, noise: 0.05, decimals: 2 } },
    keepAliveS: shape.keepAliveS,
    sessionExpiryS: shape.sessionExpiryS,
    connectTimeoutS: 30,
    reconnect: { initialMs: 1_000, maxMs: 10_000, factor: 2 },
  }
}

async function start(shape: LoadShape): Promise<object> {
  const startedAt = performance.now()
  fleet = createFleet({
    brokerUrl: shape.url,
    identities: Array.from({ length: shape.devices }, (_, i) => ({
      id: deviceId(i),
      auth: { kind: 'none' as const },
    })),
    profile: profileFor(shape),
    connectsPerSecond: shape.connectsPerSecond,
    seed: 1,
  })
  fleet.start()
  const deadline = startedAt + (shape.devices / shape.connectsPerSecond) * 1000 + 60_000
  let last = 0
  while (fleet.stats().connected < shape.devices && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const connected = fleet.stats().connected
    if (connected - last >= Math.max(500, shape.devices / 10)) {
      reply({ type: 'progress', connected })
      last = connected
    }
  }
  const s = fleet.stats()
  return {
    type: 'connected',
    connected: s.connected,
    connectS: (performance.now() - startedAt) / 1000,
    errors: s.errors,
  }
}

serveParent(
  {
    start: (m) => start(loadShapeFrom(m)),
    measure: async () => {
      const memory = await measureMemory()
      const s = fleet?.stats()
      return {
        type: 'measured',
        memory,
        connected: s?.connected ?? 0,
        sent: s?.telemetrySent ?? 0,
        acked: s?.acked ?? 0,
        errors: s?.errors ?? {},
      }
    },
  },
  async () => {
    await fleet?.close()
  },
)

warmUpMqttPacket()
void measureMemory().then((memory) => reply({ type: 'ready', memory }))
