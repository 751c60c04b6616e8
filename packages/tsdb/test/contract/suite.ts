/**
 * The contract both engines honour, run against each (embedded.contract.test.ts,
 * postgres.contract.test.ts). Everything here goes through the public interface only.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type {
  AggregateQuery,
  SeriesBatch,
  SeriesKey,
  StoreOptions,
  TimeSeriesStore,
  Value,
} from '../../src/index.js'

/** A place a store lives (a data folder, a database schema) that can be opened repeatedly. */
export interface StoreLocation {
  open(options?: StoreOptions): Promise<TimeSeriesStore>
  dispose(): Promise<void>
}

export interface EngineUnderTest {
  readonly name: string
  /** A fresh, empty location. */
  location(): Promise<StoreLocation>
  /** False where the engine canonicalises NaN payloads (PostgreSQL's float8 text format). */
  readonly keepsNaNPayloads: boolean
}

/** 2026-01-10T00:00:00Z: the clock every test runs at. */
export const NOW = Date.UTC(2026, 0, 10)
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const clock: StoreOptions = { now: () => NOW }

function key(device: string, metric = 'temp', tags: Record<string, string> = {}): SeriesKey {
  return { tenant: 'acme', device, metric, tags }
}

async function withStore(
  engine: EngineUnderTest,
  fn: (store: TimeSeriesStore, location: StoreLocation) => Promise<void>,
  options: StoreOptions = clock,
): Promise<void> {
  const location = await engine.location()
  const store = await location.open(options)
  try {
    await fn(store, location)
  } finally {
    await store.close()
    await location.dispose()
  }
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, String(err))
    return true
  })
}

function series(
  device: string,
  start: number,
  step: number,
  values: Value[],
  metric = 'temp',
): SeriesBatch {
  return { series: key(device, metric), times: values.map((_, i) => start + i * step), values }
}

async function readSeries(store: TimeSeriesStore, device: string, from = 0, to = NOW + DAY) {
  const page = await store.read({ selector: { tenant: 'acme', device }, from, to, limit: 100_000 })
  return page.series
}

export function contractSuite(engine: EngineUnderTest): void {
  describe(`${engine.name}: writes and raw reads`, () => {
    it('reads back what was written, per series, in time order', async () => {
      await withStore(engine, async (store) => {
        const t0 = NOW - HOUR
        const result = await store.write([
          series('d1', t0, 1000, [1.5, 2.25, -3]),
          { series: key('d1', 'count'), times: [t0 + 5, t0], values: [7n, -9223372036854775808n] },
          { series: key('d1', 'open'), times: [t0], values: [true] },
          { series: key('d1', 'state'), times: [t0], values: ['ok'] },
        ])
        assert.deepEqual(result, { points: 7, series: 4 })
        const read = await readSeries(store, 'd1')
        assert.deepEqual(
          read.map((s) => [s.key.metric, s.type, s.times, s.values]),
          [
            ['count', 'int', [t0, t0 + 5], [-9223372036854775808n, 7n]],
            ['open', 'bool', [t0], [true]],
            ['state', 'string', [t0], ['ok']],
            ['temp', 'float', [t0, t0 + 1000, t0 + 2000], [1.5, 2.25, -3]],
          ],
        )
      })
    })

    it('replaces a point written twice at the same time (idempotent writes)', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - MINUTE
        await store.write([series('d1', t, 1, [1, 2])])
        await store.write([series('d1', t, 1, [10])])
        await store.writePoints([{ series: key('d1'), time: t + 1, value: 20 }])
        const [s] = await readSeries(store, 'd1')
        assert.deepEqual(s?.values, [10, 20])
      })
    })

    it('keeps the last of duplicate timestamps inside one write', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - MINUTE
        await store.write([{ series: key('d1'), times: [t, t + 1, t], values: [1, 2, 3] }])
        const [s] = await readSeries(store, 'd1')
        assert.deepEqual(
          [s?.times, s?.values],
          [
            [t, t + 1],
            [3, 2],
          ],
        )
      })
    })

    it('pages raw reads with a cursor, across series', async () => {
      await withStore(engine, async (store) => {
        const t0 = NOW - HOUR
        await store.write([
          series(
            'a',
            t0,
            10,
            Array.from({ length: 25 }, (_, i) => i),
          ),
          series(
            'b',
            t0,
            10,
            Array.from({ length: 10 }, (_, i) => 100 + i),
          ),
        ])
        const seen: [string, number][] = []
        let cursor: string | null = null
        let pages = 0
        do {
          const page = await store.read({
            selector: { tenant: 'acme' },
            from: t0,
            to: NOW,
            limit: 7,
            cursor,
          })
          const count = page.series.reduce((n, s) => n + s.times.length, 0)
          assert.ok(count <= 7)
          for (const s of page.series) for (const t of s.times) seen.push([s.key.device, t])
          cursor = page.cursor
          pages++
        } while (cursor !== null && pages < 20)
        assert.equal(seen.length, 35)
        assert.deepEqual(seen, [
          ...Array.from({ length: 25 }, (_, i): [string, number] => ['a', t0 + i * 10]),
          ...Array.from({ length: 10 }, (_, i): [string, number] => ['b', t0 + i * 10]),
        ])
        await rejectsWithCode(
          store.read({ selector: { tenant: 'acme' }, from: t0, to: NOW, cursor: 'not-a-cursor' }),
          'TSDB_QUERY_INVALID',
        )
      })
    })

    it('streams every point with readAll and stops when the caller stops', async () => {
      await withStore(engine, async (store) => {
        const t0 = NOW - HOUR
        await store.write([
          series(
            'a',
            t0,
            1,
            Array.from({ length: 300 }, (_, i) => i),
          ),
          series(
            'b',
            t0,
            1,
            Array.from({ length: 300 }, (_, i) => i),
          ),
        ])
        let total = 0
        for await (const s of store.readAll({
          selector: { tenant: 'acme' },
          from: 0,
          to: NOW,
          limit: 50,
        })) {
          total += s.times.length
        }
        assert.equal(total, 600)
        let first = 0
        for await (const s of store.readAll({
          selector: { tenant: 'acme' },
          from: 0,
          to: NOW,
          limit: 50,
        })) {
          first += s.times.length
          break
        }
        assert.equal(first, 50)
        const controller = new AbortController()
        controller.abort()
        await rejectsWithCode(
          store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW, signal: controller.signal }),
          'TSDB_QUERY_ABORTED',
        )
      })
    })

    it('survives close and reopen with everything acknowledged', async () => {
      const location = await engine.location()
      try {
        const store = await location.open(clock)
        await store.write([series('d1', NOW - HOUR, 1000, [1, 2, 3])])
        await store.close()
        const again = await location.open(clock)
        const [s] = await readSeries(again, 'd1')
        assert.deepEqual(s?.values, [1, 2, 3])
        await again.write([series('d1', NOW - HOUR + 3000, 1000, [4])])
        const [s2] = await readSeries(again, 'd1')
        assert.deepEqual(s2?.values, [1, 2, 3, 4])
        await again.close()
        await rejectsWithCode(again.write([series('d1', NOW, 1, [1])]), 'TSDB_CLOSED')
      } finally {
        await location.dispose()
      }
    })
  })

  describe(`${engine.name}: bad input gets a clear error and stores nothing`, () => {
    it('refuses a value of another type than the series holds', async () => {
      await withStore(engine, async (store) => {
        await store.write([series('d1', NOW - 10, 1, [1.5])])
        await rejectsWithCode(store.write([series('d1', NOW - 5, 1, ['x'])]), 'TSDB_TYPE_MISMATCH')
        await rejectsWithCode(store.write([series('d1', NOW - 5, 1, [1n])]), 'TSDB_TYPE_MISMATCH')
        await rejectsWithCode(
          store.write([{ series: key('d2'), times: [NOW - 2, NOW - 1], values: [1, true] }]),
          'TSDB_TYPE_MISMATCH',
        )
        const read = await store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW + 1 })
        assert.deepEqual(
          read.series.map((s) => s.values),
          [[1.5]],
        )
      })
    })

    it('writes all or nothing', async () => {
      await withStore(engine, async (store) => {
        await rejectsWithCode(
          store.write([
            series('ok', NOW - 10, 1, [1, 2]),
            series('bad', NOW - 10, 1, [null as unknown as Value]),
          ]),
          'TSDB_POINT_INVALID',
        )
        assert.deepEqual(await store.series({ tenant: 'acme' }), [])
      })
    })

    it('refuses bad series keys, timestamps and values', async () => {
      await withStore(engine, async (store) => {
        const manyTags = Object.fromEntries(
          Array.from({ length: 1_000_000 }, (_, i) => [`t${String(i)}`, 'v']),
        )
        const cases: [SeriesBatch, string][] = [
          [
            { series: { ...key('d'), tags: manyTags }, times: [NOW], values: [1] },
            'TSDB_SERIES_INVALID',
          ],
          [{ series: key(''), times: [NOW], values: [1] }, 'TSDB_SERIES_INVALID'],
          [{ series: key('d'.repeat(200)), times: [NOW], values: [1] }, 'TSDB_SERIES_INVALID'],
          [
            { series: key('d', 'temp', { 'a=b': 'x' }), times: [NOW], values: [1] },
            'TSDB_SERIES_INVALID',
          ],
          [{ series: key('d\n'), times: [NOW], values: [1] }, 'TSDB_SERIES_INVALID'],
          [series('d', -1, 1, [1]), 'TSDB_TIME_OUT_OF_RANGE'],
          [series('d', NOW + 2 * HOUR, 1, [1]), 'TSDB_TIME_OUT_OF_RANGE'],
          [series('d', 1e20, 1, [1]), 'TSDB_POINT_INVALID'],
          [series('d', NOW + 0.5, 1, [1]), 'TSDB_POINT_INVALID'],
          [series('d', NOW - 30 * DAY, 1, [1]), 'TSDB_TOO_LATE'],
          [series('d', NOW, 1, [2n ** 63n]), 'TSDB_POINT_INVALID'],
          [series('d', NOW, 1, ['x'.repeat(300)]), 'TSDB_POINT_INVALID'],
          [series('d', NOW, 1, [{} as unknown as Value]), 'TSDB_POINT_INVALID'],
          [{ series: key('d'), times: [NOW, NOW + 1], values: [1] }, 'TSDB_POINT_INVALID'],
        ]
        for (const [batch, code] of cases) await rejectsWithCode(store.write([batch]), code)
        assert.deepEqual(await store.series({ tenant: 'acme' }), [])
        // history goes in as backfill
        await store.write([series('d', NOW - 300 * DAY, 1, [1])], { backfill: true })
        assert.equal((await store.series({ tenant: 'acme' })).length, 1)
      })
    })

    it('refuses queries over their limits and malformed queries', async () => {
      await withStore(engine, async (store) => {
        await store.write([series('d1', NOW - 10, 1, [1])])
        const year: AggregateQuery = {
          selector: { tenant: 'acme', metric: 'temp' },
          from: NOW - 365 * DAY,
          to: NOW,
          bucket: 1,
          functions: ['mean'],
        }
        await rejectsWithCode(store.aggregate(year), 'TSDB_QUERY_TOO_LARGE')
        await rejectsWithCode(store.aggregate({ ...year, bucket: 0 }), 'TSDB_QUERY_INVALID')
        await rejectsWithCode(
          store.aggregate({ ...year, bucket: DAY, functions: ['median' as 'mean'] }),
          'TSDB_QUERY_INVALID',
        )
        await rejectsWithCode(
          store.aggregate({ ...year, bucket: DAY, from: NOW, to: NOW }),
          'TSDB_QUERY_INVALID',
        )
        await rejectsWithCode(
          store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW, limit: 0 }),
          'TSDB_QUERY_INVALID',
        )
        await rejectsWithCode(
          store.read({ selector: { tenant: '' }, from: 0, to: NOW }),
          'TSDB_QUERY_INVALID',
        )
      })
    })
  })

  describe(`${engine.name}: series lookup and tenants`, () => {
    it('finds series by device, metric and tag matchers', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - 10
        await store.write([
          { series: key('d1', 'temp', { site: 'berlin', floor: '1' }), times: [t], values: [1] },
          { series: key('d2', 'temp', { site: 'berlin' }), times: [t], values: [1] },
          { series: key('d3', 'temp', { site: 'paris' }), times: [t], values: [1] },
          { series: key('d3', 'hum'), times: [t], values: [1] },
          {
            series: { tenant: 'other', device: 'd1', metric: 'temp', tags: { site: 'berlin' } },
            times: [t],
            values: [1],
          },
        ])
        const devices = async (selector: Parameters<TimeSeriesStore['series']>[0]) =>
          (await store.series(selector)).map((s) => `${s.key.device}.${s.key.metric}`)
        assert.deepEqual(await devices({ tenant: 'acme' }), [
          'd1.temp',
          'd2.temp',
          'd3.hum',
          'd3.temp',
        ])
        assert.deepEqual(
          await devices({
            tenant: 'acme',
            metric: 'temp',
            tags: [{ name: 'site', op: '=', value: 'berlin' }],
          }),
          ['d1.temp', 'd2.temp'],
        )
        assert.deepEqual(
          await devices({ tenant: 'acme', tags: [{ name: 'site', op: '!=', value: 'berlin' }] }),
          ['d3.hum', 'd3.temp'],
        )
        assert.deepEqual(
          await devices({
            tenant: 'acme',
            tags: [{ name: 'site', op: 'in', values: ['paris', 'rome'] }],
          }),
          ['d3.temp'],
        )
        assert.deepEqual(
          await devices({
            tenant: 'acme',
            tags: [{ name: 'site', op: 'not in', values: ['paris'] }],
          }),
          ['d1.temp', 'd2.temp', 'd3.hum'],
        )
        assert.deepEqual(
          await devices({ tenant: 'acme', tags: [{ name: 'floor', op: 'exists' }] }),
          ['d1.temp'],
        )
        assert.deepEqual(
          await devices({ tenant: 'acme', tags: [{ name: 'site', op: 'absent' }] }),
          ['d3.hum'],
        )
        assert.deepEqual(await devices({ tenant: 'acme', device: ['d1', 'd3'], metric: 'temp' }), [
          'd1.temp',
          'd3.temp',
        ])
        const info = await store.series({ tenant: 'acme', device: 'd1' })
        assert.deepEqual(info, [
          {
            key: {
              tenant: 'acme',
              device: 'd1',
              metric: 'temp',
              tags: { floor: '1', site: 'berlin' },
            },
            type: 'float',
          },
        ])
      })
    })

    it("never shows one tenant another tenant's points", async () => {
      await withStore(engine, async (store) => {
        const t = NOW - 10
        await store.write([
          { series: { tenant: 'a', device: 'd', metric: 'm' }, times: [t], values: [1] },
          { series: { tenant: 'b', device: 'd', metric: 'm' }, times: [t], values: [2] },
        ])
        const page = await store.read({ selector: { tenant: 'a' }, from: 0, to: NOW })
        assert.deepEqual(
          page.series.map((s) => s.values),
          [[1]],
        )
        const agg = await store.aggregate({
          selector: { tenant: 'a', metric: 'm' },
          from: 0,
          to: NOW,
          bucket: DAY,
          functions: ['sum'],
          groupBy: [],
        })
        assert.deepEqual(
          agg.groups.map((g) => g.values['sum']),
          [[1]],
        )
        const latest = await store.latest({ selector: { tenant: 'b' } })
        assert.deepEqual(
          latest.map((l) => l.value),
          [2],
        )
        assert.deepEqual(
          (await store.delete({ selector: { tenant: 'a' }, from: 0, to: NOW })).points,
          1,
        )
        assert.equal(
          (await store.read({ selector: { tenant: 'b' }, from: 0, to: NOW })).series.length,
          1,
        )
      })
    })
  })

  describe(`${engine.name}: aggregates`, () => {
    const t0 = NOW - DAY
    const values = Array.from(
      { length: 360 },
      (_, i) => Math.round((20 + Math.sin(i / 10) * 5) * 100) / 100,
    )

    it('computes every function per bucket like a reference', async () => {
      await withStore(engine, async (store) => {
        await store.write([series('d1', t0 + 7, 10_000, values)])
        const result = await store.aggregate({
          selector: { tenant: 'acme', metric: 'temp', device: 'd1' },
          from: t0,
          to: t0 + HOUR,
          bucket: 5 * MINUTE,
          functions: [
            'count',
            'sum',
            'min',
            'max',
            'mean',
            'first',
            'last',
            'stddev',
            'p50',
            'p90',
            'p99.9',
          ],
        })
        assert.equal(result.groups.length, 1)
        const group = result.groups[0]
        assert.ok(group !== undefined)
        assert.deepEqual(group.series, { tenant: 'acme', device: 'd1', metric: 'temp', tags: {} })
        assert.equal(group.times.length, 12)
        for (let b = 0; b < 12; b++) {
          const slice = values.slice(b * 30, b * 30 + 30)
          assert.equal(group.times[b], t0 + b * 5 * MINUTE)
          assert.equal(group.values['count']?.[b], 30)
          assertClose(
            group.values['sum']?.[b],
            slice.reduce((a, x) => a + x, 0),
          )
          assert.equal(group.values['min']?.[b], Math.min(...slice))
          assert.equal(group.values['max']?.[b], Math.max(...slice))
          assertClose(group.values['mean']?.[b], slice.reduce((a, x) => a + x, 0) / 30)
          assert.equal(group.values['first']?.[b], slice[0])
          assert.equal(group.values['last']?.[b], slice[29])
          assertClose(group.values['stddev']?.[b], referenceStddev(slice))
          assertClose(group.values['p50']?.[b], referencePercentile(slice, 0.5))
          assertClose(group.values['p90']?.[b], referencePercentile(slice, 0.9))
          assertClose(group.values['p99.9']?.[b], referencePercentile(slice, 0.999))
        }
      })
    })

    it('groups series by tags, or all together', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - HOUR
        await store.write([
          { series: key('d1', 'temp', { site: 'berlin' }), times: [t, t + 1], values: [1, 3] },
          { series: key('d2', 'temp', { site: 'berlin' }), times: [t], values: [5] },
          { series: key('d3', 'temp', { site: 'paris' }), times: [t], values: [10] },
          { series: key('d4', 'temp'), times: [t], values: [100] },
        ])
        const bySite = await store.aggregate({
          selector: { tenant: 'acme', metric: 'temp' },
          from: t,
          to: NOW,
          bucket: HOUR,
          functions: ['mean', 'count'],
          groupBy: ['site'],
        })
        assert.deepEqual(
          bySite.groups.map((g) => [g.tags, g.values['mean'], g.values['count']]),
          [
            [{ site: '' }, [100], [1]],
            [{ site: 'berlin' }, [3], [3]],
            [{ site: 'paris' }, [10], [1]],
          ],
        )
        const all = await store.aggregate({
          selector: { tenant: 'acme', metric: 'temp' },
          from: t,
          to: NOW,
          bucket: HOUR,
          functions: ['max'],
          groupBy: [],
        })
        assert.deepEqual(
          all.groups.map((g) => [g.tags, g.values['max']]),
          [[{}, [100]]],
        )
      })
    })

    it('fills empty buckets as asked', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - 5 * HOUR
        await store.write([{ series: key('d1'), times: [t, t + 3 * HOUR], values: [10, 40] }])
        const ask = (fill: AggregateQuery['fill']) =>
          store.aggregate({
            selector: { tenant: 'acme', metric: 'temp' },
            from: t,
            to: t + 4 * HOUR,
            bucket: HOUR,
            functions: ['mean', 'count'],
            ...(fill === undefined ? {} : { fill }),
          })
        const column = async (fill: AggregateQuery['fill']) =>
          (await ask(fill)).groups[0]?.values['mean']
        assert.deepEqual(await column(undefined), [10, 40])
        assert.deepEqual(await column('none'), [10, 40])
        assert.deepEqual(await column('null'), [10, null, null, 40])
        assert.deepEqual(await column('previous'), [10, 10, 10, 40])
        assert.deepEqual(await column('linear'), [10, 20, 30, 40])
        assert.deepEqual(await column(0), [10, 0, 0, 40])
        assert.deepEqual((await ask('null')).groups[0]?.values['count'], [1, 0, 0, 1])
        assert.deepEqual((await ask('null')).groups[0]?.times, [
          t,
          t + HOUR,
          t + 2 * HOUR,
          t + 3 * HOUR,
        ])
      })
    })

    it('aggregates ints and booleans as numbers, strings only by count, first and last', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - HOUR
        await store.write([
          { series: key('d1', 'n'), times: [t, t + 1], values: [2n, 4n] },
          { series: key('d1', 'on'), times: [t, t + 1, t + 2], values: [true, false, true] },
          { series: key('d1', 's'), times: [t, t + 1], values: ['a', 'b'] },
        ])
        const one = async (metric: string, functions: AggregateQuery['functions']) =>
          (
            await store.aggregate({
              selector: { tenant: 'acme', metric },
              from: t,
              to: NOW,
              bucket: HOUR,
              functions,
            })
          ).groups[0]?.values
        assert.deepEqual(await one('n', ['sum', 'mean', 'last']), {
          sum: [6],
          mean: [3],
          last: [4n],
        })
        assert.deepEqual(await one('on', ['mean', 'count', 'first']), {
          mean: [2 / 3],
          count: [3],
          first: [true],
        })
        assert.deepEqual(await one('s', ['count', 'first', 'last']), {
          count: [2],
          first: ['a'],
          last: ['b'],
        })
        await rejectsWithCode(one('s', ['mean']), 'TSDB_QUERY_INVALID')
      })
    })

    it('keeps aggregates in step with late writes, rewrites and deletes', async () => {
      await withStore(engine, async (store) => {
        const t = NOW - 3 * DAY
        await store.write(
          [
            series(
              'd1',
              t,
              MINUTE,
              Array.from({ length: 24 * 60 }, () => 1),
            ),
          ],
          { backfill: true },
        )
        const hourly = async () =>
          (
            await store.aggregate({
              selector: { tenant: 'acme', metric: 'temp' },
              from: t,
              to: t + DAY,
              bucket: HOUR,
              functions: ['count', 'sum', 'max'],
            })
          ).groups[0]?.values
        assert.deepEqual((await hourly())?.['sum']?.slice(0, 2), [60, 60])
        await store.write(
          [{ series: key('d1'), times: [t + 30 * 1000, t + MINUTE], values: [5, 9] }],
          { backfill: true },
        )
        const after = await hourly()
        assert.deepEqual(after?.['count']?.slice(0, 2), [61, 60])
        assert.deepEqual(after['sum']?.slice(0, 2), [73, 60])
        assert.deepEqual(after['max']?.slice(0, 2), [9, 1])
        const deleted = await store.delete({
          selector: { tenant: 'acme', device: 'd1' },
          from: t + HOUR,
          to: t + 2 * HOUR,
        })
        assert.equal(deleted.points, 60)
        const afterDelete = await hourly()
        assert.deepEqual(afterDelete?.['count']?.slice(0, 2), [61, 60])
        assert.equal(afterDelete['count'].length, 23)
        const times = (
          await store.aggregate({
            selector: { tenant: 'acme', metric: 'temp' },
            from: t,
            to: t + 3 * HOUR,
            bucket: HOUR,
            functions: ['count'],
          })
        ).groups[0]?.times
        assert.deepEqual(times, [t, t + 2 * HOUR])
      })
    })
  })

  describe(`${engine.name}: latest values, deletes, retention, stats`, () => {
    it('returns the newest point of many series at once', async () => {
      await withStore(engine, async (store) => {
        const batches = Array.from({ length: 50 }, (_, i) =>
          series(`d${String(i).padStart(2, '0')}`, NOW - HOUR, MINUTE, [i, i + 1, i + 2]),
        )
        await store.write(batches)
        const latest = await store.latest({ selector: { tenant: 'acme', metric: 'temp' } })
        assert.equal(latest.length, 50)
        assert.deepEqual(latest[7], {
          key: { tenant: 'acme', device: 'd07', metric: 'temp', tags: {} },
          type: 'float',
          time: NOW - HOUR + 2 * MINUTE,
          value: 9,
        })
        const before = await store.latest({
          selector: { tenant: 'acme', device: 'd07' },
          before: NOW - HOUR + 2 * MINUTE,
        })
        assert.deepEqual(
          before.map((l) => l.value),
          [8],
        )
        await store.delete({
          selector: { tenant: 'acme', device: 'd07' },
          from: NOW - HOUR + MINUTE,
          to: NOW,
        })
        const afterDelete = await store.latest({ selector: { tenant: 'acme', device: 'd07' } })
        assert.deepEqual(
          afterDelete.map((l) => l.value),
          [7],
        )
      })
    })

    it('applies retention per tenant and per series', async () => {
      let now = NOW
      await withStore(
        engine,
        async (store) => {
          await store.write(
            [
              series('d1', NOW - 5 * DAY, DAY, [1, 2, 3, 4, 5]),
              series('d2', NOW - 5 * DAY, DAY, [1, 2, 3, 4, 5]),
              {
                series: { tenant: 'other', device: 'd1', metric: 'temp' },
                times: [NOW - 5 * DAY],
                values: [1],
              },
            ],
            { backfill: true },
          )
          await store.setRetention({ selector: { tenant: 'acme' }, maxAge: 3 * DAY })
          await store.setRetention({ selector: { tenant: 'acme', device: 'd2' }, maxAge: DAY + 1 })
          assert.equal((await store.retentionRules()).length, 2)
          // The same selector written another way replaces its rule rather than adding one.
          await store.setRetention({
            selector: { tenant: 'acme', device: ['x', 'y'] },
            maxAge: DAY,
          })
          await store.setRetention({
            selector: { tenant: 'acme', device: ['y', 'x'] },
            maxAge: DAY,
          })
          assert.equal((await store.retentionRules()).length, 3)
          await store.setRetention({
            selector: { tenant: 'acme', device: ['x', 'y'] },
            maxAge: null,
          })
          assert.equal((await store.retentionRules()).length, 2)
          const dropped = await store.applyRetention()
          assert.equal(dropped.points, 2 + 4)
          const read = await store.read({ selector: { tenant: 'acme' }, from: 0, to: NOW + 1 })
          assert.deepEqual(
            read.series.map((s) => s.values),
            [[3, 4, 5], [5]],
          )
          now += DAY
          await store.setRetention({ selector: { tenant: 'acme', device: 'd2' }, maxAge: null })
          assert.equal((await store.applyRetention()).points, 1)
          assert.equal(
            (await store.read({ selector: { tenant: 'other' }, from: 0, to: NOW })).series.length,
            1,
          )
        },
        { now: () => now },
      )
    })

    it('counts series, points and bytes', async () => {
      await withStore(engine, async (store) => {
        await store.write([
          series('d1', NOW - HOUR, 1000, [1, 2, 3]),
          series('d2', NOW - HOUR, 1000, [1]),
        ])
        const stats = await store.stats()
        assert.ok(['embedded', 'postgres'].includes(stats.engine))
        assert.equal(stats.series, 2)
        assert.equal(stats.points, 4)
        assert.ok(stats.bytesOnDisk > 0)
      })
    })
  })

  describe(`${engine.name}: what is read back equals what was written, bit for bit`, () => {
    it('holds for random float, int, bool and string series', async () => {
      const location = await engine.location()
      const store = await location.open({ now: () => NOW })
      let run = 0
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.array(fc.double(), { minLength: 1, maxLength: 60 }),
              fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), {
                minLength: 1,
                maxLength: 60,
              }),
              fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
              fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 60 }),
            ),
            fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 60, maxLength: 60 }),
            async (values: Value[], offsets) => {
              const device = `p${String(run++)}`
              const times = values.map((_, i) => NOW - DAY + (offsets[i] as number))
              await store.write([{ series: key(device), times, values }])
              const expected = new Map<number, Value>()
              times.forEach((t, i) => expected.set(t, values[i] as Value))
              const sorted = [...expected].sort(([a], [b]) => a - b)
              const [s] = await readSeries(store, device)
              assert.deepEqual(
                s?.times,
                sorted.map(([t]) => t),
              )
              sorted.forEach(([, v], i) => assertSameValue(s.values[i], v, engine.keepsNaNPayloads))
            },
          ),
          { numRuns: 40 },
        )
      } finally {
        await store.close()
        await location.dispose()
      }
    })
  })
}

function assertSameValue(
  actual: Value | undefined,
  expected: Value,
  keepsNaNPayloads: boolean,
): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected) && !keepsNaNPayloads) {
      assert.ok(Number.isNaN(actual))
      return
    }
    assert.equal(floatBits(actual), floatBits(expected), `${String(actual)} vs ${String(expected)}`)
    return
  }
  assert.equal(actual, expected)
}

function floatBits(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  return view.getBigUint64(0)
}

function assertClose(actual: unknown, expected: number): void {
  assert.equal(typeof actual, 'number')
  assert.ok(
    Math.abs((actual as number) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${String(actual)} ≉ ${String(expected)}`,
  )
}

function referenceStddev(xs: number[]): number {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1))
}

function referencePercentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const pos = p * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo)
}
