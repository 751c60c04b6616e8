import mqttPacket from 'mqtt-packet'

// What both children measure: their own memory after full garbage collections (the child runs
// with --expose-gc), so per-device figures are live objects and resident pages, not garbage.

/** Resident and heap memory of this process, after collecting garbage. */
export interface MemorySample {
  readonly rssBytes: number
  readonly heapUsedBytes: number
}

/**
 * mqtt-packet builds a cache of 65,536 two-byte Buffers (about 6 MiB of heap) the first time it
 * writes a packet. Both sides use it (MQTT.js through writeToStream, ours through generate), and
 * it costs the same for one device or ten thousand: the children write one packet before they
 * measure their baseline, so it is not counted per device on either side.
 */
export function warmUpMqttPacket(): void {
  mqttPacket.generate({ cmd: 'pingreq' })
}

export async function measureMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run the child with --expose-gc')
  // Twice, with a turn of the event loop between: weak references and finalizers settle.
  gc()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  const m = process.memoryUsage()
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed }
}

/** The telemetry both sides send: the same JSON record, so the same payload size. */
export function telemetryPayload(ts: number, temp: number): string {
  return JSON.stringify({ ts, values: { temp } })
}

/** The settings both sides share. */
export interface LoadShape {
  readonly url: string
  readonly devices: number
  readonly periodS: number
  readonly connectsPerSecond: number
  readonly keepAliveS: number
  readonly sessionExpiryS: number
}

export function deviceId(i: number): string {
  return `bench-${String(i).padStart(6, '0')}`
}

export function loadShapeFrom(message: Record<string, unknown>): LoadShape {
  const shape = message['shape'] as LoadShape | undefined
  if (shape === undefined) throw new Error('start without a load shape')
  return shape
}
