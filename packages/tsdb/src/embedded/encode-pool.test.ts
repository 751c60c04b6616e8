import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { TsdbError } from '../errors.js'
import type { NewChunk } from './catalogue.js'
import { cutColumns, type ChunkLayout } from './chunk-writer.js'
import type { EncodeJob } from './encode-batch.js'
import { EncodePool } from './encode-pool.js'

const DAY = 86_400_000
const layout: ChunkLayout = { window: DAY, maxPoints: 4096, rollupWidths: [900_000, 3_600_000] }
const start = Date.UTC(2026, 0, 1)

/** A job of `n` points every 10 s with jitter, of each type in turn. */
function job(seriesId: number, n: number): EncodeJob {
  const times = Float64Array.from({ length: n }, (_, i) => start + i * 10_000 + ((i * 7) % 5))
  switch (seriesId % 4) {
    case 0:
      return { seriesId, type: 'float', times, values: times.map((t) => 20 + Math.sin(t / 1e6)) }
    case 1:
      return {
        seriesId,
        type: 'int',
        times,
        values: BigInt64Array.from(times, (_, i) => BigInt(i)),
      }
    case 2:
      return {
        seriesId,
        type: 'bool',
        times,
        values: Uint8Array.from(times, (_, i) => (i % 3) & 1),
      }
    default:
      return {
        seriesId,
        type: 'string',
        times,
        values: Array.from(times, (_, i) => `s${String(i % 4)}`),
      }
  }
}

function bytesOf(chunks: readonly NewChunk[]): string[] {
  return chunks.map(
    (c) =>
      [c.seriesId, c.minTime, c.maxTime, c.count, Buffer.from(c.data).toString('hex')].join(':') +
      Buffer.from(c.rollups).toString('hex'),
  )
}

// The worker from source, as a build of dist may be missing or older than the sources here.
const sourceWorker = {
  script: new URL('../../test/fixtures/encode-worker-source.mjs', import.meta.url),
  execArgv: ['--conditions=strata-source'],
}

describe('encode pool', () => {
  const pool = new EncodePool(1, sourceWorker)
  pool.warm()
  after(() => pool.close())
  // Enough points for several batches (the pool sends 32,768 a message), ten thousand a series.
  const jobs = Array.from({ length: 12 }, (_, i) => job(i + 1, 10_000 + i))
  const expected = bytesOf(jobs.flatMap((j) => cutColumns(j.seriesId, j.type, j, layout)))

  it('encodes on its thread what the calling thread would, byte for byte, in job order', async () => {
    assert.equal(pool.threads, 1)
    assert.deepEqual(bytesOf(await pool.encode(jobs, layout, false)), expected)
    const points = jobs.reduce((n, j) => n + j.times.length, 0)
    assert.deepEqual(pool.encoded, { workers: points, here: 0 })
    assert.deepEqual(bytesOf(await pool.encode(jobs, layout, true)), expected)
    assert.equal(pool.encoded.workers + pool.encoded.here, 2 * points)
    assert.ok(pool.encoded.workers > points, 'the worker took a share while the caller helped')
  })

  it('leaves the jobs it was given as they were', async () => {
    const mine = [job(1, 70_000)]
    const before = Array.from(mine[0]?.times ?? [])
    await pool.encode(mine, layout, false)
    assert.deepEqual(Array.from(mine[0]?.times ?? []), before)
  })

  it('throws an encoding error where the caller sees it', async () => {
    const bad = job(1, 70_000)
    const times = bad.times.slice()
    times[100] = times[99] as number // not strictly increasing
    await assert.rejects(
      pool.encode([{ ...bad, times }], layout, false),
      (err: TsdbError) => err.code === 'TSDB_CHUNK_INVALID',
    )
  })

  it('encodes on the calling thread when it has no threads, or has not started them', async () => {
    for (const idle of [new EncodePool(0), new EncodePool(1, sourceWorker)]) {
      assert.deepEqual(bytesOf(await idle.encode(jobs, layout, false)), expected)
      assert.equal(idle.encoded.workers, 0)
      await idle.close()
    }
  })
})
