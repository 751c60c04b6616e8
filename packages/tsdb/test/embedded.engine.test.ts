import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { openEmbeddedStore, type AggregateQuery, type EmbeddedStore } from '../src/index.js'

const NOW = Date.UTC(2026, 0, 10)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
async function fresh(
  options: Parameters<typeof openEmbeddedStore>[1] = {},
): Promise<{ store: EmbeddedStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-tsdb-engine-'))
  dirs.push(dir)
  return { store: await openEmbeddedStore(dir, { now: () => NOW, ...options }), dir }
}

/** The 3,000 points of the concurrent-writes test are all there, each with its own value. */
async function assertEveryPointWritten(store: EmbeddedStore): Promise<void> {
  let total = 0
  for await (const s of store.readAll({
    selector: { tenant: 't' },
    from: 0,
    to: NOW,
    limit: 1000,
  })) {
    s.times.forEach((t, i) => assert.equal(s.values[i], t - (NOW - DAY)))
    total += s.times.length
  }
  assert.equal(total, 3000)
}

describe('embedded engine internals, seen from outside', () => {
  it('answers from rollups exactly what it answers from raw points', async () => {
    const { store } = await fresh({ chunkMaxPoints: 300 })
    try {
      let run = 0
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(
              fc.integer({ min: 0, max: 2 * DAY - 1 }),
              fc.integer({ min: -5000, max: 5000 }),
            ),
            { minLength: 1, maxLength: 400 },
          ),
          fc.array(
            fc.tuple(
              fc.integer({ min: 0, max: 2 * DAY - 1 }),
              fc.integer({ min: -5000, max: 5000 }),
            ),
            { maxLength: 30 },
          ),
          fc.constantFrom(5 * 60_000, 15 * 60_000, 30 * 60_000, HOUR, 3 * HOUR, DAY),
          async (sealed, late, bucket) => {
            const device = `r${String(run++)}`
            const series = { tenant: 't', device, metric: 'temp' }
            const start = NOW - 3 * DAY
            await store.write(
              [
                {
                  series,
                  times: sealed.map(([t]) => start + t),
                  values: sealed.map(([, v]) => v / 100),
                },
              ],
              { backfill: true },
            )
            await store.checkpoint()
            // Late points stay in the head, over sealed chunks: those chunks must be read raw.
            await store.write(
              [
                {
                  series,
                  times: late.map(([t]) => start + t),
                  values: late.map(([, v]) => v / 100),
                },
              ],
              { backfill: true },
            )
            const base: AggregateQuery = {
              selector: { tenant: 't', device, metric: 'temp' },
              from: start,
              to: start + 2 * DAY,
              bucket,
              functions: ['count', 'sum', 'min', 'max', 'mean'],
            }
            const fromRollups = await store.aggregate(base)
            const fromRaw = await store.aggregate({
              ...base,
              functions: [...base.functions, 'first'],
            })
            const a = fromRollups.groups[0]
            const b = fromRaw.groups[0]
            assert.deepEqual(a?.times, b?.times)
            for (const fn of ['count', 'min', 'max'] as const)
              assert.deepEqual(a?.values[fn], b?.values[fn], fn)
            for (const fn of ['sum', 'mean'] as const) {
              a?.values[fn]?.forEach((x, i) => {
                assert.ok(
                  Math.abs((x as number) - (b?.values[fn]?.[i] as number)) < 1e-6,
                  `${fn} ${String(x)}`,
                )
              })
            }
          },
        ),
        { numRuns: 60 },
      )
    } finally {
      await store.close()
    }
  })

  it('keeps writes that arrive while a checkpoint seals the head', async () => {
    const { store } = await fresh({ headMaxPoints: 200, chunkMaxPoints: 128 })
    try {
      const writes = Array.from({ length: 60 }, (_, k) =>
        store.write([
          {
            series: { tenant: 't', device: `d${String(k % 3)}`, metric: 'v' },
            times: Array.from({ length: 50 }, (_, i) => NOW - DAY + k * 50 + i),
            values: Array.from({ length: 50 }, (_, i) => k * 50 + i),
          },
        ]),
      )
      const checkpoints = [store.checkpoint(), store.checkpoint()]
      await Promise.all([...writes, ...checkpoints])
      await store.checkpoint()
      await assertEveryPointWritten(store)
      const stats = await store.stats()
      assert.equal(stats.points, 3000)
      assert.equal(stats.detail['headPoints'], 0)
      // Checkpoints left many small chunks per series (some already joined in the background);
      // compaction joins the rest into as few as the 128-point limit allows, changing no point.
      await store.compact({ all: true })
      const after = await store.stats()
      assert.equal(after.points, 3000)
      assert.equal(after.detail['chunks'], 3 * Math.ceil(1000 / 128))
      await assertEveryPointWritten(store)
    } finally {
      await store.close()
    }
  })

  it('relieves a full log by sealing whole chunks, carrying the rest over in the log', async () => {
    const { store, dir } = await fresh({
      // Each write below logs about 19 kB: the second one fills the log.
      walMaxBytes: 30_000,
      chunkMaxPoints: 256,
      compactAfterMs: 30 * DAY,
    })
    const series = (device: string) => ({ tenant: 't', device, metric: 'v' })
    // One busy series (1,000 points a write) and nine quiet ones (20 each), in an open window.
    for (let k = 0; k < 4; k++) {
      const start = NOW - DAY + k * 1000
      await store.write([
        {
          series: series('busy'),
          times: Array.from({ length: 1000 }, (_, i) => start + i),
          values: Array.from({ length: 1000 }, (_, i) => start + i - (NOW - DAY)),
        },
        ...Array.from({ length: 9 }, (_, d) => ({
          series: series(`quiet${String(d)}`),
          times: Array.from({ length: 20 }, (_, i) => start + i * 50),
          values: Array.from({ length: 20 }, (_, i) => start + i * 50 - (NOW - DAY)),
        })),
      ])
    }
    // The write past 30 kB of log started a relief; the next write waits for it in log order.
    await store.write([{ series: series('busy'), times: [NOW - DAY + 4000], values: [4000] }])
    const stats = await store.stats()
    assert.equal(stats.points, 4 * 1180 + 1)
    // The busy series sealed whole 256-point chunks only; what is left waits in the head.
    assert.ok((stats.detail['chunks'] as number) >= 7, `chunks ${String(stats.detail['chunks'])}`)
    assert.ok((stats.detail['headPoints'] as number) > 0)
    assert.ok((stats.detail['headPoints'] as number) <= 1000)

    // A copy of the folder as a crash would leave it: the carried points come back from the log.
    const copy = join(dir, '..', `${basename(dir)}-copy`)
    dirs.push(copy)
    cpSync(dir, copy, { recursive: true })
    rmSync(join(copy, 'LOCK'))
    const reopened = await openEmbeddedStore(copy, { now: () => NOW })
    try {
      for (const s of (await reopened.read({ selector: { tenant: 't' }, from: 0, to: NOW }))
        .series) {
        const expected = s.key.device === 'busy' ? 4001 : 80
        assert.equal(s.times.length, expected, s.key.device)
        s.times.forEach((t, i) => assert.equal(s.values[i], t - (NOW - DAY)))
      }
      assert.equal((await reopened.stats()).points, 4 * 1180 + 1)
    } finally {
      await reopened.close()
      await store.close()
    }
  })

  it('seals whole chunks beside the writes, and after a crash counts none of them twice', async () => {
    const { store, dir } = await fresh({ chunkMaxPoints: 256, compactAfterMs: 30 * DAY })
    const series = (device: string) => ({ tenant: 't', device, metric: 'v' })
    const start = NOW - DAY
    const write = (device: string, from: number, n: number, sign = 1) =>
      store.write([
        {
          series: series(device),
          times: Array.from({ length: n }, (_, i) => start + from + i),
          values: Array.from({ length: n }, (_, i) => sign * (from + i)),
        },
      ])
    // 1,200 points of one series: four whole chunks and more, which a background seal takes.
    await write('busy', 0, 1200)
    const writes = [write('busy', 1200, 30), write('quiet', 0, 30)]
    const during = await store.read({ selector: { tenant: 't' }, from: 0, to: NOW })
    assert.equal(during.series.find((s) => s.key.device === 'busy')?.times.length, 1200)
    await Promise.all(writes)
    let stats = await store.stats()
    for (let i = 0; i < 200 && (stats.detail['chunks'] as number) < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      stats = await store.stats()
    }
    assert.equal(stats.points, 1230 + 30)
    assert.equal(stats.detail['chunks'], 4, 'four whole chunks sealed')
    assert.ok((stats.detail['headPoints'] as number) < 256 + 30)
    // The log still holds the sealed points (only a checkpoint starts it anew).
    assert.ok((stats.detail['walBytes'] as number) > 1230 * 16)
    // Later writes over sealed points win.
    await write('busy', 100, 5, -1)

    const copy = join(dir, '..', `${basename(dir)}-sealed`)
    dirs.push(copy)
    cpSync(dir, copy, { recursive: true })
    rmSync(join(copy, 'LOCK'))
    const reopened = await openEmbeddedStore(copy, { now: () => NOW })
    try {
      assert.equal((await reopened.stats()).points, 1230 + 30)
      const page = await reopened.read({ selector: { tenant: 't' }, from: 0, to: NOW })
      for (const s of page.series) {
        assert.equal(s.times.length, s.key.device === 'busy' ? 1230 : 30, s.key.device)
        s.times.forEach((t, i) => {
          const overwritten = s.key.device === 'busy' && t - start >= 100 && t - start < 105
          assert.equal(s.values[i], (overwritten ? -1 : 1) * (t - start))
        })
      }
    } finally {
      await reopened.close()
      await store.close()
    }
  })

  it('relieves a full head in the background, writes going on, and loses nothing in a crash', async () => {
    const { store, dir } = await fresh({
      headMaxPoints: 2000,
      chunkMaxPoints: 256,
      compactAfterMs: 30 * DAY,
    })
    const start = NOW - DAY
    // 40 quiet series, 30 points each a write: no whole chunk anywhere, so only sealing whole
    // series relieves the head.
    const write = (k: number) =>
      store.write(
        Array.from({ length: 40 }, (_, d) => ({
          series: { tenant: 't', device: `d${String(d)}`, metric: 'v' },
          times: Array.from({ length: 30 }, (_, i) => start + k * 30 + i),
          values: Array.from({ length: 30 }, (_, i) => k * 30 + i),
        })),
      )
    const settled = async () => {
      let stats = await store.stats()
      for (let i = 0; i < 300 && (stats.detail['headPoints'] as number) > 1000; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        stats = await store.stats()
      }
      return stats
    }
    await write(0)
    const walBefore = (await store.stats()).detail['walBytes'] as number
    // Past the 2,000-point budget (not half as much again): a background seal takes whole
    // series until half the budget is left.
    await write(1)
    const stats = await settled()
    assert.equal(stats.points, 2 * 1200)
    assert.ok((stats.detail['headPoints'] as number) <= 1000, String(stats.detail['headPoints']))
    assert.ok((stats.detail['chunks'] as number) >= 24, String(stats.detail['chunks']))
    // No checkpoint ran: the log was not started anew, it holds every write.
    assert.ok((stats.detail['walBytes'] as number) >= 2 * walBefore)
    await write(2)
    await settled()

    // A crash now: the log replays every point, those sealed since included, and the store
    // counts each once.
    const copy = join(dir, '..', `${basename(dir)}-relieved`)
    dirs.push(copy)
    cpSync(dir, copy, { recursive: true })
    rmSync(join(copy, 'LOCK'))
    const reopened = await openEmbeddedStore(copy, { now: () => NOW })
    try {
      assert.equal((await reopened.stats()).points, 3 * 1200)
      let series = 0
      for await (const s of reopened.readAll({ selector: { tenant: 't' }, from: 0, to: NOW })) {
        assert.equal(s.times.length, 90, s.key.device)
        s.times.forEach((t, i) => assert.equal(s.values[i], t - start))
        series++
      }
      assert.equal(series, 40)
    } finally {
      await reopened.close()
      await store.close()
    }
  })

  it('refuses to open a folder with another timestamp precision', async () => {
    const { store, dir } = await fresh()
    await store.close()
    await assert.rejects(openEmbeddedStore(dir, { precision: 'us' }), /holds ms timestamps/)
  })

  it('stores microsecond timestamps exactly', async () => {
    const { store } = await fresh({ precision: 'us' })
    try {
      const t = NOW * 1000 - 123_457
      await store.write([
        { series: { tenant: 't', device: 'd', metric: 'm' }, times: [t, t + 1], values: [1, 2] },
      ])
      await store.checkpoint()
      const page = await store.read({ selector: { tenant: 't' }, from: t, to: t + 2 })
      assert.deepEqual(page.series[0]?.times, [t, t + 1])
    } finally {
      await store.close()
    }
  })
})
