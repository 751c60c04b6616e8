/**
 * The PostgreSQL engine: the shared contract, each test in a fresh schema of this file's own
 * database, then what only this engine has (migration locking, rollups, partition retention,
 * server-side cancelling).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { testDatabase } from '../../../test-support/postgres.js'
import {
  openPostgresStore,
  type AggregateQuery,
  type PostgresStoreOptions,
  type SeriesBatch,
  type StoreOptions,
  type TimeSeriesStore,
} from '../src/index.js'
import { contractSuite, NOW } from './contract/suite.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const database = testDatabase('tsdb_postgres')
after(async () => (await database).dispose())

/** Runs SQL on this file's database with a short-lived client. */
async function sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []) {
  const client = new pg.Client((await database).url)
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}

/** A fresh schema name; the store creates the schema, `dropSchema` removes it. */
function freshSchema(): string {
  return `tsdb_${randomBytes(5).toString('hex')}`
}

async function dropSchema(schema: string): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}

async function open(
  schema: string,
  options: StoreOptions & Partial<PostgresStoreOptions> = {},
): Promise<TimeSeriesStore> {
  return openPostgresStore({ url: (await database).url, schema, now: () => NOW, ...options })
}

contractSuite({
  name: 'postgres',
  keepsNaNPayloads: false,
  location() {
    const schema = freshSchema()
    return Promise.resolve({
      open: (options) => open(schema, options),
      dispose: () => dropSchema(schema),
    })
  },
})

/** Opens a store on a fresh schema for one test and cleans up after it. */
async function withStore(
  fn: (store: TimeSeriesStore, schema: string) => Promise<void>,
  options: StoreOptions & Partial<PostgresStoreOptions> = {},
): Promise<void> {
  const schema = freshSchema()
  const store = await open(schema, options)
  try {
    await fn(store, schema)
  } finally {
    await store.close()
    await dropSchema(schema)
  }
}

function key(device: string, tags: Record<string, string> = {}) {
  return { tenant: 'acme', device, metric: 'temp', tags }
}

describe('postgres: engine specifics', () => {
  it('runs migrations once when several stores open one schema at the same time', async () => {
    const schema = freshSchema()
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema)))
      const versions = await sql<{ version: string; n: string }>(
        `SELECT version, count(*) AS n FROM ${schema}.schemaversion WHERE version > 0 GROUP BY version`,
      )
      assert.ok(versions.length > 0)
      for (const v of versions) assert.equal(v.n, '1')
      await Promise.all(
        stores.map((s, i) =>
          s.write([{ series: key(`d${String(i)}`), times: [NOW - MINUTE], values: [i] }]),
        ),
      )
      assert.equal((await stores[0]!.series({ tenant: 'acme' })).length, 4)
      await Promise.all(stores.map((s) => s.close()))
    } finally {
      await dropSchema(schema)
    }
  })

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(open('bad"; DROP SCHEMA public; --'), { code: 'TSDB_QUERY_INVALID' })
  })

  it('serves count/sum/min/max/mean from rollups with the same results as from points', async () => {
    await withStore(async (store, schema) => {
      const t0 = NOW - 2 * DAY
      let seed = 7
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 100 - 50
      const batches: SeriesBatch[] = ['a', 'b', 'c'].map((device, d) => {
        const times = Array.from({ length: 3000 }, (_, i) => t0 + i * 37_003 + d * 11)
        return {
          series: key(device, { site: d < 2 ? 'berlin' : 'paris' }),
          times,
          values: times.map(() => Math.round(random() * 8) / 8),
        }
      })
      await store.write(batches, { backfill: true })
      // Late writes, rewrites and a delete, so rollups have been recomputed, not just appended.
      await store.write(
        [{ series: key('a', { site: 'berlin' }), times: [t0 + 5, t0 + 37_003], values: [49, -49] }],
        { backfill: true },
      )
      await store.delete({
        selector: { tenant: 'acme', device: 'b' },
        from: t0 + HOUR,
        to: t0 + 3 * HOUR,
      })
      const base: AggregateQuery = {
        selector: { tenant: 'acme', metric: 'temp' },
        // Unaligned ends: the partial edges come from points.
        from: t0 + 7 * MINUTE + 13,
        to: t0 + 30 * HOUR + 3,
        bucket: HOUR,
        functions: ['count', 'sum', 'min', 'max', 'mean'],
        fill: 'null',
      }
      for (const query of [
        base,
        { ...base, bucket: 15 * MINUTE },
        { ...base, groupBy: ['site'] },
        { ...base, groupBy: [] },
      ] satisfies AggregateQuery[]) {
        const rollup = await store.aggregate(query)
        // `first` cannot come from rollups, so this asks the points.
        const raw = await store.aggregate({ ...query, functions: [...query.functions, 'first'] })
        assert.equal(rollup.groups.length, raw.groups.length)
        rollup.groups.forEach((group, g) => {
          const other = raw.groups[g]!
          assert.deepEqual(group.times, other.times)
          for (const fn of query.functions) {
            assert.deepEqual(group.values[fn], other.values[fn], `${fn} of group ${String(g)}`)
          }
        })
      }
      // And the rollup path really reads the rollups: skewing one shows in it alone.
      await sql(`UPDATE ${schema}.rollup_1h SET max = 1000 WHERE bucket = $1`, [
        new Date(t0 + 5 * HOUR).toISOString(),
      ])
      const skewed = await store.aggregate({ ...base, functions: ['max'], groupBy: [] })
      const raw = await store.aggregate({ ...base, functions: ['max', 'first'], groupBy: [] })
      assert.equal(skewed.groups[0]!.values['max']![5], 1000)
      assert.notEqual(raw.groups[0]!.values['max']![5], 1000)
    })
  })

  it('sums past the float8 range to Infinity, as IEEE arithmetic does, on both paths', async () => {
    await withStore(async (store) => {
      const t = NOW - HOUR
      await store.write([
        { series: key('d1'), times: [t, t + 1, t + 2], values: [1.7e308, 1.7e308, 2] },
        { series: key('d2'), times: [t, t + 1], values: [-1e300, 1] },
      ])
      const query: AggregateQuery = {
        selector: { tenant: 'acme', metric: 'temp' },
        from: t,
        to: NOW,
        bucket: HOUR,
        functions: ['sum', 'max'],
      }
      for (const functions of [query.functions, [...query.functions, 'first' as const]]) {
        const result = await store.aggregate({ ...query, functions })
        assert.deepEqual(
          result.groups.map((g) => g.values['sum']),
          [[Infinity], [-1e300 + 1]],
        )
      }
    })
  })

  it('drops a whole partition for retention and deletes within shared ones', async () => {
    await withStore(async (store, schema) => {
      const partitions = async () =>
        (
          await sql<{ n: string }>(
            `SELECT count(*) AS n FROM pg_inherits WHERE inhparent = '${schema}.points'::regclass`,
          )
        )[0]!.n
      await store.write(
        [
          {
            series: key('d1'),
            times: [NOW - 5 * DAY, NOW - 4 * DAY, NOW - DAY],
            values: [1, 2, 3],
          },
          {
            series: { tenant: 'other', device: 'd1', metric: 'temp' },
            times: [NOW - 5 * DAY + HOUR],
            values: [9],
          },
        ],
        { backfill: true },
      )
      assert.equal(await partitions(), '3')
      await store.setRetention({ selector: { tenant: 'acme' }, maxAge: 2 * DAY })
      assert.equal((await store.applyRetention()).points, 2)
      // The day only acme had is gone whole; the day shared with `other` kept other's point.
      assert.equal(await partitions(), '2')
      const left = await store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW })
      assert.deepEqual(left.series[0]?.values, [3])
      const other = await store.read({ selector: { tenant: 'other' }, from: 0, to: NOW })
      assert.deepEqual(other.series[0]?.values, [9])
      assert.equal((await store.stats()).points, 2)
      // A write into the dropped day recreates its partition.
      await store.write([{ series: key('d2'), times: [NOW - 4 * DAY], values: [5] }], {
        backfill: true,
      })
      assert.equal(await partitions(), '3')
    })
  })

  it('cancels the running statement on the server when the caller aborts', async () => {
    await withStore(async (store, schema) => {
      await store.write([{ series: key('d1'), times: [NOW - MINUTE], values: [1] }])
      const [partition] = await sql<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '${schema}.points'::regclass`,
      )
      // Hold a lock that makes the store's read wait on the server.
      const blocker = new pg.Client((await database).url)
      await blocker.connect()
      try {
        await blocker.query('BEGIN')
        await blocker.query(`LOCK TABLE ${schema}.${partition!.name} IN ACCESS EXCLUSIVE MODE`)
        const controller = new AbortController()
        const reading = store.read({
          selector: { tenant: 'acme' },
          from: 0,
          to: NOW,
          signal: controller.signal,
        })
        const waiting = `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'strata-tsdb'
          AND wait_event_type = 'Lock'`
        const deadline = Date.now() + 5000
        while ((await sql<{ n: string }>(waiting))[0]!.n !== '1') {
          assert.ok(Date.now() < deadline, 'the read never reached the lock')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        const started = Date.now()
        controller.abort()
        await assert.rejects(reading, { code: 'TSDB_QUERY_ABORTED' })
        assert.ok(Date.now() - started < 2000)
        const until = Date.now() + 2000
        while ((await sql<{ n: string }>(waiting))[0]!.n !== '0') {
          assert.ok(Date.now() < until, 'the statement still runs on the server')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      } finally {
        await blocker.query('ROLLBACK')
        await blocker.end()
      }
      // The store still works afterwards.
      const page = await store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW })
      assert.deepEqual(page.series[0]?.values, [1])
    })
  })

  it('keeps microsecond timestamps exact', async () => {
    await withStore(
      async (store) => {
        const now = NOW * 1000
        const times = [now - 1, now - 999_999, now - 1_000_001, 1]
        await store.write([{ series: key('d1'), times, values: [1, 2, 3, 4] }], { backfill: true })
        const page = await store.read({ selector: { tenant: 'acme' }, from: 0, to: now + 1 })
        assert.deepEqual(
          page.series[0]?.times,
          [...times].sort((a, b) => a - b),
        )
        const agg = await store.aggregate({
          selector: { tenant: 'acme', metric: 'temp' },
          from: now - 2_000_000,
          to: now,
          bucket: 1_000_000,
          functions: ['count', 'last'],
        })
        assert.deepEqual(agg.groups[0]!.times, [now - 2_000_000, now - 1_000_000])
        assert.deepEqual(agg.groups[0]!.values['last'], [3, 1])
      },
      { precision: 'us', now: () => NOW },
    )
  })
})
