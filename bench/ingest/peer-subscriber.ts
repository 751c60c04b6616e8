// Child process: the peer's subscriber, the do-it-yourself half of "Mosquitto + a Node service
// writing to PostgreSQL". One MQTT.js client subscribes to every device's telemetry at QoS 1,
// parses each batch, and writes rows `(series_id, ts, value)` with COPY: one COPY in flight, the
// next one takes everything that arrived meanwhile (group commit, like our WriteBatcher), each its
// own committed transaction. Series ids come from a `series (device, metric)` table, cached.
// MQTT.js acknowledges a PUBLISH as soon as it is read, as such services do; when more than
// `maxBufferedRows` wait for COPY it stops reading (MQTT.js reads the next packet only after
// `handleMessage` calls back), so Mosquitto queues instead of this process.
// argv: MQTT_URL PG_URL FORMAT. Tells the parent `{type: 'committed', rows, atMs}` per COPY.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import mqtt from 'mqtt'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { reply, serveParent } from './children.js'
import { decodeBatch, telemetryTopic, type PayloadFormat, type PeerRecord } from './payload.js'

const maxBufferedRows = 200_000
const maxRowsPerCopy = 50_000

const [mqttUrl, pgUrl, formatArg] = process.argv.slice(2)
if (mqttUrl === undefined || pgUrl === undefined || formatArg === undefined)
  throw new Error('usage: peer-subscriber.ts MQTT_URL PG_URL FORMAT')
const format = formatArg as PayloadFormat

interface Batch {
  readonly device: string
  readonly records: readonly PeerRecord[]
  readonly rows: number
}

const db = new pg.Client({ connectionString: pgUrl })
await db.connect()
const backend = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')

const seriesIds = new Map<string, number>()
let buffered: Batch[] = []
let bufferedRows = 0
let copying = false
let scheduled = false
let failed = 0
const readWaiters: (() => void)[] = []

function seriesKey(device: string, metric: string): string {
  return `${device}\u001f${metric}`
}

/** Registers the series seen for the first time in `batches` and caches their ids. */
async function resolveSeries(batches: readonly Batch[]): Promise<void> {
  const devices: string[] = []
  const metrics: string[] = []
  const seen = new Set<string>()
  for (const b of batches)
    for (const r of b.records)
      for (const metric of Object.keys(r.values)) {
        const key = seriesKey(b.device, metric)
        if (seriesIds.has(key) || seen.has(key)) continue
        seen.add(key)
        devices.push(b.device)
        metrics.push(metric)
      }
  if (devices.length === 0) return
  const { rows } = await db.query<{ id: number; device: string; metric: string }>(
    `INSERT INTO series (device, metric) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (device, metric) DO UPDATE SET metric = EXCLUDED.metric
       RETURNING id, device, metric`,
    [devices, metrics],
  )
  for (const row of rows) seriesIds.set(seriesKey(row.device, row.metric), row.id)
}

function copyText(batches: readonly Batch[]): string {
  const lines: string[] = []
  for (const b of batches)
    for (const r of b.records) {
      const ts = new Date(r.ts).toISOString()
      for (const [metric, value] of Object.entries(r.values))
        lines.push(`${String(seriesIds.get(seriesKey(b.device, metric)))}\t${ts}\t${String(value)}`)
    }
  return `${lines.join('\n')}\n`
}

function schedule(): void {
  if (scheduled || copying || buffered.length === 0) return
  scheduled = true
  setImmediate(() => {
    scheduled = false
    void flush()
  })
}

async function flush(): Promise<void> {
  if (copying || buffered.length === 0) return
  copying = true
  const batches: Batch[] = []
  let rows = 0
  while (buffered.length > 0 && rows < maxRowsPerCopy) {
    const b = buffered.shift() as Batch
    batches.push(b)
    rows += b.rows
  }
  try {
    await resolveSeries(batches)
    await pipeline(
      Readable.from([copyText(batches)]),
      db.query(copyFrom('COPY points (series_id, ts, value) FROM STDIN')),
    )
    reply({ type: 'committed', rows, atMs: performance.timeOrigin + performance.now() })
  } catch (err) {
    failed += rows
    reply({ type: 'copy-failed', rows, message: err instanceof Error ? err.message : String(err) })
  } finally {
    bufferedRows -= rows
    copying = false
    while (bufferedRows < maxBufferedRows && readWaiters.length > 0) readWaiters.shift()?.()
    schedule()
  }
}

const client = await mqtt.connectAsync(mqttUrl, {
  clientId: 'ingest-subscriber',
  protocolVersion: 5,
  clean: true,
  keepalive: 600,
  reconnectPeriod: 0,
  properties: { receiveMaximum: 65_535 },
})
client.on('message', (topic, payload) => {
  const device = topic.split('/')[3] ?? ''
  let records: PeerRecord[]
  try {
    records = decodeBatch(format, payload)
  } catch {
    failed += 1
    return
  }
  let rows = 0
  for (const r of records) rows += Object.keys(r.values).length
  buffered.push({ device, records, rows })
  bufferedRows += rows
  schedule()
})
// MQTT.js calls this after 'message' and reads the next packet only once it calls back.
client.handleMessage = (_packet, callback) => {
  if (bufferedRows < maxBufferedRows) callback()
  else readWaiters.push(() => callback())
}
await client.subscribeAsync(telemetryTopic(format, '+'), { qos: 1 })

serveParent(
  {
    stats: () => Promise.resolve({ type: 'stats', failed, bufferedRows }),
  },
  async () => {
    await client.endAsync()
    buffered = []
    await db.end()
  },
)
reply({ type: 'ready', pgBackendPid: backend.rows[0]?.pid ?? null })
