// `npm run bench -- tsdb [--quick] [--series N] [--hours H] [--runs N] [--only SIDES]`
// Writes one realistic sensor fleet (sensor-data.ts) to our embedded engine, our PostgreSQL
// engine and, as the peer, a plain PostgreSQL table loaded with COPY; then times warm queries on
// all three. Progress on stderr; the BRIEF §4 JSON as the last line on stdout.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { testDatabase } from '../../test-support/postgres.js'
import {
  openEmbeddedStore,
  openPostgresStore,
  type TimeSeriesStore,
} from '../../packages/tsdb/src/index.js'
import { generateDataset, type Dataset } from './dataset.js'
import { bucketQuery, load, tenant, writeBatches } from './ours.js'
import { copyPayloads, PlainTablePeer } from './peer.js'

const usage = `usage: npm run bench -- tsdb [options]
  --quick        500 series over 4 hours (about 1M points), 3 timed runs per query
  --series N     sensors in the fleet (default 1000)
  --hours H      hours of data per sensor (default 24: about 13M points)
  --runs N       timed runs per query, after one warm-up (default 7)
  --only SIDES   run only these, comma-separated: peer, embedded, postgres (default all three);
                 figures and ratios of the others are left out
  --help         this text`

const sides = ['peer', 'embedded', 'postgres'] as const
type Side = (typeof sides)[number]

const MIN = 60_000
/** Writes in flight at once, for every store: four writers, as a small fleet gateway would. */
const inFlight = 4
const HOUR = 60 * MIN
const numericMetrics = ['temperature', 'humidity', 'level', 'counter', 'bool'] as const

type Figures = Record<string, number>

function log(message: string): void {
  process.stderr.write(`tsdb: ${message}\n`)
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}

/** The median of `runs` timed calls after one warm-up, in ms. */
async function warm(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push((await timed(fn)).ms)
  times.sort((a, b) => a - b)
  return round(times[Math.floor(times.length / 2)] as number)
}

function round(x: number, digits = 3): number {
  return Number(x.toPrecision(digits + 2))
}

interface QueryPlan {
  readonly oneSeries: { device: string; from: number; to: number }
  readonly tenthIds: number[]
  readonly allIds: number[]
  readonly temperatureIds: number[]
  readonly latestIds: number[]
  readonly tenthPoints: number
  readonly allPoints: number
}

function plan(data: Dataset): QueryPlan {
  const numeric = data.series.filter((s) => s.metric !== 'status')
  const temperatures = data.series.filter((s) => s.metric === 'temperature')
  // The temperature sensor with the most points: the busiest day one series can have.
  const busiest = [...temperatures].sort((a, b) => b.times.length - a.times.length)[0]
  if (busiest === undefined) throw new Error('the fleet has no temperature series')
  const tenth = numeric.filter((s) => s.site === 'site-0')
  return {
    oneSeries: { device: busiest.device, from: data.start, to: data.end },
    tenthIds: tenth.map((s) => s.index),
    allIds: numeric.map((s) => s.index),
    temperatureIds: temperatures.map((s) => s.index),
    latestIds: data.series.slice(0, 1000).map((s) => s.index),
    tenthPoints: tenth.reduce((n, s) => n + s.times.length, 0),
    allPoints: numeric.reduce((n, s) => n + s.times.length, 0),
  }
}

async function measureOurs(
  store: TimeSeriesStore,
  data: Dataset,
  p: QueryPlan,
  runs: number,
): Promise<Figures> {
  const { oneSeries } = p
  const hourlyPerSeries = async (site?: string): Promise<void> => {
    for (const metric of numericMetrics) {
      const tags = site === undefined ? [] : [{ name: 'site', op: '=' as const, value: site }]
      await store.aggregate(
        bucketQuery(metric, data.start, data.end, HOUR, { selector: { tenant, metric, tags } }),
      )
    }
  }
  return {
    q_one_series_5m_ms: await warm(runs, () =>
      store.aggregate(
        bucketQuery('temperature', oneSeries.from, oneSeries.to, 5 * MIN, {
          selector: { tenant, metric: 'temperature', device: oneSeries.device },
        }),
      ),
    ),
    q_hourly_tenth_ms: await warm(runs, () => hourlyPerSeries('site-0')),
    q_hourly_all_ms: await warm(runs, () => hourlyPerSeries()),
    q_fleet_15m_ms: await warm(runs, () =>
      store.aggregate(bucketQuery('temperature', data.start, data.end, 15 * MIN, { groupBy: [] })),
    ),
    q_latest_1000_ms: await warm(runs, () => store.latest({ selector: { tenant } })),
  }
}

async function measurePeer(
  peer: PlainTablePeer,
  data: Dataset,
  p: QueryPlan,
  runs: number,
): Promise<Figures> {
  const one = data.series.find((s) => s.device === p.oneSeries.device)?.index ?? 0
  return {
    q_one_series_5m_ms: await warm(runs, () =>
      peer.buckets([one], p.oneSeries.from, p.oneSeries.to, '5 minutes', true),
    ),
    q_hourly_tenth_ms: await warm(runs, () =>
      peer.buckets(p.tenthIds, data.start, data.end, '1 hour', true),
    ),
    q_hourly_all_ms: await warm(runs, () =>
      peer.buckets(p.allIds, data.start, data.end, '1 hour', true),
    ),
    q_fleet_15m_ms: await warm(runs, () =>
      peer.buckets(p.temperatureIds, data.start, data.end, '15 minutes', false),
    ),
    q_latest_1000_ms: await warm(runs, () => peer.latest(p.latestIds)),
  }
}

/**
 * Times one of our loads the way the peer's is timed. `ingest_points_per_s` ends when the last
 * write is acknowledged: durable in the store's log (the embedded engine's write-ahead log is
 * fdatasync'd before a write resolves; our PostgreSQL engine's COPY is committed), as the
 * peer's ends when its last COPY is committed (PostgreSQL's WAL flushed). `toRest` is what puts
 * the points where they will stay — for the embedded engine sealing the head into compressed
 * chunks and joining them (a checkpoint and a compaction), for PostgreSQL a `CHECKPOINT` — and
 * counts only in `ingest_at_rest_points_per_s`, for every side alike.
 */
async function loadOurs(
  name: string,
  store: TimeSeriesStore,
  data: Dataset,
  batches: Parameters<typeof load>[1],
  toRest: () => Promise<void>,
): Promise<Figures> {
  log(`${name}: writing ${data.points.toLocaleString('en')} points`)
  const { ms } = await timed(() => load(store, batches, inFlight))
  const rest = await timed(toRest)
  const stats = await store.stats()
  log(
    `${name}: ${String(Math.round(data.points / (ms / 1000)))} points/s acknowledged (${ms.toFixed(0)} ms), at rest after ${rest.ms.toFixed(0)} ms more, ${stats.bytesPerPoint.toFixed(3)} bytes/point`,
  )
  return {
    ingest_points_per_s: Math.round(data.points / (ms / 1000)),
    ingest_at_rest_points_per_s: Math.round(data.points / ((ms + rest.ms) / 1000)),
    bytes_per_point: round(stats.bytesOnDisk / data.points),
  }
}

function ratios(ours: Figures, peer: Figures): Figures {
  const out: Figures = {}
  for (const [key, value] of Object.entries(ours)) {
    const theirs = peer[key]
    if (theirs !== undefined && theirs !== 0) out[key] = round(value / theirs)
  }
  return out
}

function parseSides(value: string | undefined): ReadonlySet<Side> {
  if (value === undefined) return new Set(sides)
  const asked = value.split(',').map((v) => v.trim())
  for (const side of asked) {
    if (!(sides as readonly string[]).includes(side))
      throw new Error(`--only: unknown side "${side}" (one of ${sides.join(', ')})`)
  }
  return new Set(asked as Side[])
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      series: { type: 'string' },
      hours: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    return
  }
  const run = parseSides(values.only)
  const seriesCount = Number(values.series ?? (values.quick ? 500 : 1000))
  const hours = Number(values.hours ?? (values.quick ? 4 : 24))
  const runs = Number(values.runs ?? (values.quick ? 3 : 7))
  const end = Date.UTC(2026, 0, 1)
  log(`generating ${String(seriesCount)} series over ${String(hours)} h`)
  const data = generateDataset(seriesCount, hours, end)
  const p = plan(data)
  log(
    `${data.points.toLocaleString('en')} points; hourly over a tenth: ${p.tenthPoints.toLocaleString('en')}, over all: ${p.allPoints.toLocaleString('en')}`,
  )
  const batches = writeBatches(data, 50_000, 10 * MIN)
  const payloads = run.has('peer') ? copyPayloads(data, 50_000) : []
  // Every side now has its own copy of the points (write batches, COPY text): the generator's
  // arrays go, so that the stores measured in this process do not run beside a heap bigger
  // than the bench needs (every full garbage collection marks all of it).
  for (const s of data.series) {
    s.times.length = 0
    s.values.length = 0
  }

  const db = await testDatabase('bench_tsdb')
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-tsdb-'))
  try {
    let peerFigures: Figures | undefined
    if (run.has('peer')) {
      log('peer: plain PostgreSQL table, COPY')
      const peer = new PlainTablePeer(db.url)
      await peer.create()
      // Ends when the last COPY is committed: durable in PostgreSQL's WAL (see loadOurs).
      // The payloads are handed over (spliced out): once loaded they are garbage, so that our
      // engines do not run beside the peer's input in this process's heap (half a GiB of text on
      // the full run, which every full garbage collection of theirs would have to mark).
      const peerLoad = await timed(() => peer.load(payloads.splice(0), inFlight))
      // Also timed: the checkpoint that puts the loaded rows at rest in the table's and index's
      // files (ours seal theirs into chunks then), reported beside the plain figure.
      const peerRest = await timed(() => peer.checkpoint())
      await peer.vacuum()
      peerFigures = {
        ingest_points_per_s: Math.round(data.points / (peerLoad.ms / 1000)),
        ingest_at_rest_points_per_s: Math.round(data.points / ((peerLoad.ms + peerRest.ms) / 1000)),
        bytes_per_point: round((await peer.bytes()) / data.points),
        ...(await measurePeer(peer, data, p, runs)),
      }
      await peer.close()
      log(`peer: ${JSON.stringify(peerFigures)}`)
      await quiesce(db.url)
    }

    let embeddedFigures: Figures | undefined
    if (run.has('embedded')) {
      const embedded = await openEmbeddedStore(join(dir, 'embedded'), { now: () => end })
      embeddedFigures = {
        ...(await loadOurs('embedded', embedded, data, batches, async () => {
          // Seal what is in memory and join the day windows' chunks: what the store does on its
          // own within the hour, done here so the bytes are those of data at rest.
          await embedded.checkpoint()
          await embedded.compact({ all: true })
        })),
        ...(await measureOurs(embedded, data, p, runs)),
      }
      await embedded.close()
      log(`embedded: ${JSON.stringify(embeddedFigures)}`)
      await quiesce(db.url)
    }

    let postgresFigures: Figures | undefined
    if (run.has('postgres')) {
      const postgres = await openPostgresStore({
        url: db.url,
        schema: 'strata_bench',
        now: () => end,
      })
      postgresFigures = {
        ...(await loadOurs('postgres engine', postgres, data, batches, () => quiesce(db.url))),
        ...(await measureOurs(postgres, data, p, runs)),
      }
      await postgres.close()
      log(`postgres engine: ${JSON.stringify(postgresFigures)}`)
    }

    const ratio: Figures = {}
    if (peerFigures !== undefined) {
      if (embeddedFigures !== undefined) Object.assign(ratio, ratios(embeddedFigures, peerFigures))
      if (postgresFigures !== undefined) {
        for (const [key, value] of Object.entries(ratios(postgresFigures, peerFigures)))
          ratio[`postgres_engine.${key}`] = value
      }
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: 'tsdb',
        figures: {
          series: data.series.length,
          points: data.points,
          hours,
          embedded: embeddedFigures ?? null,
          postgres_engine: postgresFigures ?? null,
        },
        peer:
          peerFigures === undefined
            ? null
            : {
                name: `PostgreSQL ${await serverVersion(db.url)} plain table (series_id, ts, value) + btree, COPY`,
                figures: peerFigures,
              },
        ratio: peerFigures === undefined ? null : ratio,
      })}\n`,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await db.dispose()
  }
}

/**
 * Flushes what the store measured before left for the disk to do: PostgreSQL writes the pages a
 * load dirtied lazily (its checkpointer, the kernel's writeback), and the next engine's fsyncs
 * would wait behind them (ext4 commits other files' dirty data with an fsync). Each engine's
 * timed load starts on a quiet disk, as the first one does.
 */
async function quiesce(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('CHECKPOINT')
  } finally {
    await client.end()
  }
}

async function serverVersion(url: string): Promise<string> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version.split(' ')[0] ?? '?'
  } finally {
    await client.end()
  }
}

await main()
