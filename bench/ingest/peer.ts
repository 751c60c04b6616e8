// The peer: the do-it-yourself stack — Mosquitto (started like bench/broker starts it) and a Node
// subscriber (peer-subscriber.ts) writing rows `(series_id, ts, value)` to PostgreSQL with COPY,
// in a database created for the run (test-support/postgres.ts) and dropped after.
import { existsSync } from 'node:fs'
import pg from 'pg'
import { testDatabase, type TestDatabase } from '../../test-support/postgres.js'
import { brokerVersion, type BrokerSupervisor, type RunningBroker } from '../broker/brokers.js'
import type { Child, ChildSet } from './children.js'
import type { DeviceCredentials } from './devices.js'
import { newestComplete } from './ours.js'
import type { PayloadFormat } from './payload.js'
import type { Stack } from './stack.js'

/** No new rows for this long while points are missing: the rest count as lost. */
const stallMs = 15_000

const schema = `
  CREATE TABLE series (id serial PRIMARY KEY, device text NOT NULL, metric text NOT NULL,
                       UNIQUE (device, metric));
  CREATE TABLE points (series_id int NOT NULL, ts timestamptz NOT NULL, value float8 NOT NULL);
  CREATE UNIQUE INDEX points_series_ts ON points (series_id, ts);
`

export class PeerStack implements Stack {
  readonly name: string
  readonly mqttUrl: string
  readonly credentials: readonly DeviceCredentials[]
  readonly memoryPids: readonly number[]
  readonly cpuPids: readonly number[]
  readonly #broker: RunningBroker
  readonly #db: TestDatabase
  readonly #pool: pg.Pool
  readonly #subscriber: Child
  readonly #children: ChildSet
  #committedRows = 0
  #lastCommitAtMs = 0
  #failedRows = 0
  readonly #copyErrors: string[] = []
  #progress: (() => void) | undefined

  private constructor(parts: {
    broker: RunningBroker
    db: TestDatabase
    pool: pg.Pool
    subscriber: Child
    children: ChildSet
    deviceIds: readonly string[]
    pgBackendPid: number | null
  }) {
    this.name = `${brokerVersion('mosquitto')} + pg COPY subscriber`
    this.#broker = parts.broker
    this.#db = parts.db
    this.#pool = parts.pool
    this.#subscriber = parts.subscriber
    this.#children = parts.children
    this.mqttUrl = `mqtt://127.0.0.1:${String(parts.broker.port)}`
    // Mosquitto allows anonymous clients here; devices send their id as username all the same.
    this.credentials = parts.deviceIds.map((id) => ({ id, password: 'unused' }))
    this.memoryPids = [parts.broker.pid, parts.subscriber.pid]
    // The PostgreSQL backend doing the COPYs, when the server runs on this machine.
    const backend = parts.pgBackendPid
    this.cpuPids = [
      ...this.memoryPids,
      ...(backend !== null && existsSync(`/proc/${String(backend)}/stat`) ? [backend] : []),
    ]
    parts.subscriber.onMessage((m) => {
      if (m.type === 'committed') {
        this.#committedRows += m['rows'] as number
        this.#lastCommitAtMs = m['atMs'] as number
      } else if (m.type === 'copy-failed') {
        this.#failedRows += m['rows'] as number
        if (this.#copyErrors.length < 5) this.#copyErrors.push(String(m['message']))
      } else return
      this.#progress?.()
    })
  }

  static async start(
    children: ChildSet,
    brokers: BrokerSupervisor,
    deviceIds: readonly string[],
    format: PayloadFormat,
  ): Promise<PeerStack> {
    const broker = await brokers.start('mosquitto', {
      persistence: false,
      // Mosquitto's own queue per subscriber when it falls behind: 0 is "no maximum", so no
      // message is dropped; the subscriber bounds its own buffer instead.
      maxQueuedMessages: 0,
      maxInflightMessages: 1000,
    })
    const db = await testDatabase('bench_ingest')
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    try {
      await pool.query(schema)
      const { child, ready } = await children.start('peer subscriber', 'peer-subscriber.ts', {
        args: [`mqtt://127.0.0.1:${String(broker.port)}`, db.url, format],
      })
      return new PeerStack({
        broker,
        db,
        pool,
        subscriber: child,
        children,
        deviceIds,
        pgBackendPid: ready['pgBackendPid'] as number | null,
      })
    } catch (err) {
      await pool.end()
      await db.dispose()
      throw err
    }
  }

  /** Rows the subscriber's COPYs failed to write (e.g. a duplicate key), and why. */
  failures(): { rows: number; errors: readonly string[] } {
    return { rows: this.#failedRows, errors: this.#copyErrors }
  }

  async latest(devices: readonly string[]): Promise<Map<string, number>> {
    // The newest row of each of the devices' series, one index probe per series.
    const { rows } = await this.#pool.query<{ device: string; metric: string; ms: string }>(
      `SELECT s.device, s.metric, (extract(epoch FROM l.ts) * 1000)::bigint AS ms
         FROM series s
         CROSS JOIN LATERAL (SELECT ts FROM points WHERE series_id = s.id ORDER BY ts DESC LIMIT 1) l
        WHERE s.device = ANY($1)`,
      [devices],
    )
    return newestComplete(rows.map((r) => [r.device, r.metric, Number(r.ms)]))
  }

  async countPoints(fromMs: number, toMs: number): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM points
        WHERE ts >= to_timestamp($1 / 1000.0) AND ts < to_timestamp($2 / 1000.0)`,
      [fromMs, toMs],
    )
    return Number(rows[0]?.n ?? 0)
  }

  /** Mosquitto's PUBACK says nothing about the database: stored once COPY committed them all. */
  async storedAt(expectedPoints: number): Promise<number> {
    for (;;) {
      if (this.#committedRows + this.#failedRows >= expectedPoints) break
      const progressed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          resolve(false)
        }, stallMs)
        this.#progress = () => {
          clearTimeout(timer)
          resolve(true)
        }
      })
      this.#progress = undefined
      if (!progressed) break
    }
    return this.#lastCommitAtMs
  }

  async close(): Promise<void> {
    await this.#children.stopOne(this.#subscriber)
    await this.#broker.stop()
    await this.#pool.end()
    await this.#db.dispose()
  }
}
