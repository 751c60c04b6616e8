// The counting subscriber: one MQTT.js client on the broker under test, subscribed to every
// device's telemetry at QoS 0, counting what the broker delivered. Delivered share = reports
// counted in the window ÷ reports the devices were due to send in it.
import mqtt, { type MqttClient } from 'mqtt'

export interface Counter {
  /** Telemetry messages received so far. */
  readonly count: number
  close(): Promise<void>
}

export async function startCounter(url: string): Promise<Counter> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId: `bench-counter-${String(process.pid)}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  })
  let count = 0
  client.on('message', () => {
    count++
  })
  await client.subscribeAsync('strata/v1/devices/+/telemetry', { qos: 0 })
  return {
    get count() {
      return count
    },
    close: async () => {
      await client.endAsync(true)
    },
  }
}
