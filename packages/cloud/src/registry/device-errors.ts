import type { StateDb } from '../db/state-db.js'

/** The refused messages of a device: how many, and the last one's error. */
export interface DeviceErrorSummary {
  readonly deviceId: string
  readonly count: number
  readonly lastCode: string
  readonly lastMessage: string
  readonly lastTopic: string
  readonly lastAt: number
}

/** Counts each device's refused messages and keeps the last error, for the API. */
export class DeviceErrors {
  readonly #db: StateDb
  readonly #clock: () => number

  constructor(db: StateDb, clock: () => number) {
    this.#db = db
    this.#clock = clock
  }

  record(deviceId: string, code: string, message: string, topic: string): void {
    this.#db
      .prepare(
        `INSERT INTO device_errors (device_id, count, last_code, last_message, last_topic, last_at) VALUES (?, 1, ?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET count = count + 1, last_code = excluded.last_code,
           last_message = excluded.last_message, last_topic = excluded.last_topic, last_at = excluded.last_at`,
      )
      .run(deviceId, code, message.slice(0, 1024), topic, this.#clock())
  }

  get(deviceId: string): DeviceErrorSummary | undefined {
    const r = this.#db.prepare('SELECT * FROM device_errors WHERE device_id = ?').get(deviceId) as
      | {
          device_id: string
          count: number
          last_code: string
          last_message: string
          last_topic: string
          last_at: number
        }
      | undefined
    return r === undefined
      ? undefined
      : {
          deviceId: r.device_id,
          count: r.count,
          lastCode: r.last_code,
          lastMessage: r.last_message,
          lastTopic: r.last_topic,
          lastAt: r.last_at,
        }
  }
}
