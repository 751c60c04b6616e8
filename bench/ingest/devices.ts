// Child process: a share of the simulated devices, one MQTT.js client each (MQTT 5, clean start
// false, client id = username = device id, password = its token), for each stack under test (a
// named `set`). The parent sends commands:
//   connect   open a set's clients (a bounded number of CONNECTs at once)
//   burst     each device publishes M batches as fast as PUBACKs allow, W unacknowledged at most
//   steady    each device publishes at a fixed rate for a while; sampled devices log send times
//   disconnect  close a set's clients
// Payloads come from payload.ts; time stamps are per device, strictly increasing, near now.
import mqtt, { type MqttClient } from 'mqtt'
import { reply, serveParent, type ChildMessage } from './children.js'
import { encodeBatch, telemetryTopic, type PayloadFormat } from './payload.js'

/** CONNECTs in flight at once per process: token checks (argon2id) are slow on purpose. */
const connectConcurrency = 16
const keepaliveS = 600
const ackTimeoutMs = 60_000

export interface DeviceCredentials {
  readonly id: string
  readonly password: string
}

/** One publish of a sampled device: its newest time stamp and when it was sent (epoch ms). */
export type LatencySample = readonly [deviceId: string, lastTs: number, sentAtMs: number]

export interface PublishResult {
  readonly points: number
  readonly ackedPoints: number
  readonly refusedPoints: number
  /** The first few refusals and connection errors, for the log. */
  readonly errors: readonly string[]
  readonly lastAckAtMs: number
}

interface Device {
  readonly id: string
  readonly client: MqttClient
  readonly topic: string
  lastTs: number
  seq: number
}

const wallNow = (): number => performance.timeOrigin + performance.now()

/** The devices of each stack under test, by the parent's name for it. */
const sets = new Map<string, { devices: Device[]; format: PayloadFormat }>()

class Tally {
  points = 0
  acked = 0
  refused = 0
  lastAckAtMs = 0
  outstanding = 0
  readonly errors: string[] = []
  #idle: (() => void) | undefined

  error(text: string): void {
    if (this.errors.length < 5) this.errors.push(text)
  }

  /** Publishes one batch of `records` records (two values each); `done` after its PUBACK. */
  publish(format: PayloadFormat, device: Device, records: number, done?: () => void): number {
    const times: number[] = []
    for (let i = 0; i < records; i++) {
      device.lastTs = Math.max(Date.now(), device.lastTs + 1)
      times.push(device.lastTs)
    }
    const points = records * 2
    this.points += points
    this.outstanding += 1
    device.seq += 1
    device.client.publish(
      device.topic,
      encodeBatch(format, times, device.seq),
      { qos: 1 },
      (err) => {
        this.outstanding -= 1
        // MQTT.js passes null or nothing on success, an Error for a failure reason code.
        if (err instanceof Error) {
          this.refused += points
          this.error(`${device.id}: ${err.message}`)
        } else {
          this.acked += points
          this.lastAckAtMs = wallNow()
        }
        done?.()
        if (this.outstanding === 0) this.#idle?.()
      },
    )
    return device.lastTs
  }

  async settled(): Promise<void> {
    if (this.outstanding === 0) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${String(this.outstanding)} PUBLISHes unacknowledged after 60 s`))
      }, ackTimeoutMs)
      this.#idle = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  result(): PublishResult {
    return {
      points: this.points,
      ackedPoints: this.acked,
      refusedPoints: this.refused,
      errors: this.errors,
      lastAckAtMs: this.lastAckAtMs,
    }
  }
}

function setOf(m: ChildMessage): { devices: Device[]; format: PayloadFormat } {
  const set = sets.get(m['set'] as string)
  if (set === undefined) throw new Error(`no devices connected as ${String(m['set'])}`)
  return set
}

async function connect(m: ChildMessage): Promise<object> {
  const url = m['url'] as string
  const list = m['devices'] as DeviceCredentials[]
  const format = m['format'] as PayloadFormat
  const devices: Device[] = []
  sets.set(m['set'] as string, { devices, format })
  const failures: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const d = list[next++] as DeviceCredentials
      try {
        const client = await mqtt.connectAsync(url, {
          clientId: d.id,
          username: d.id,
          password: d.password,
          protocolVersion: 5,
          clean: false,
          keepalive: keepaliveS,
          reconnectPeriod: 0,
          connectTimeout: 120_000,
        })
        client.on('error', (err) => {
          if (failures.length < 5) failures.push(`${d.id}: ${err.message}`)
        })
        devices.push({ id: d.id, client, topic: telemetryTopic(format, d.id), lastTs: 0, seq: 0 })
      } catch (err) {
        failures.push(`${d.id}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: connectConcurrency }, worker))
  return { type: 'connected', connected: devices.length, failures }
}

/** Every device sends `messages` batches, keeping `window` unacknowledged at most. */
async function burst(m: ChildMessage): Promise<object> {
  const messages = m['messages'] as number
  const records = m['records'] as number
  const window = m['window'] as number
  const { devices, format } = setOf(m)
  const tally = new Tally()
  await Promise.all(
    devices.map(
      (device) =>
        new Promise<void>((resolve) => {
          let sent = 0
          let acked = 0
          const pump = (): void => {
            while (sent < messages && sent - acked < window) {
              sent += 1
              tally.publish(format, device, records, () => {
                acked += 1
                if (acked === messages) resolve()
                else pump()
              })
            }
          }
          pump()
        }),
    ),
  )
  await tally.settled()
  return { type: 'burst-done', ...tally.result() }
}

/** Every device sends `perDevicePerS` batches a second for `durationMs`, at a random phase. */
async function steady(m: ChildMessage): Promise<object> {
  const perS = m['perDevicePerS'] as number
  const durationMs = m['durationMs'] as number
  const records = m['records'] as number
  const sampled = new Set(m['sample'] as string[])
  const { devices, format } = setOf(m)
  const tally = new Tally()
  const samples: LatencySample[] = []
  const periodMs = 1000 / perS
  const start = performance.now()
  const end = start + durationMs
  await Promise.all(
    devices.map(
      (device) =>
        new Promise<void>((resolve) => {
          let due = start + Math.random() * periodMs
          const tick = (): void => {
            const sentAt = wallNow()
            const lastTs = tally.publish(format, device, records)
            if (sampled.has(device.id)) samples.push([device.id, lastTs, sentAt])
            due += periodMs
            if (due >= end) resolve()
            else setTimeout(tick, Math.max(0, due - performance.now()))
          }
          setTimeout(tick, due - start)
        }),
    ),
  )
  await tally.settled()
  return { type: 'steady-done', ...tally.result(), samples }
}

async function disconnect(m: ChildMessage): Promise<object> {
  const { devices } = setOf(m)
  sets.delete(m['set'] as string)
  await Promise.all(devices.map((d) => d.client.endAsync()))
  return { type: 'disconnected' }
}

serveParent({ connect, burst, steady, disconnect }, async () => {
  const all = [...sets.values()].flatMap((set) => set.devices)
  sets.clear()
  await Promise.all(all.map((d) => d.client.endAsync()))
})
reply({ type: 'ready' })
