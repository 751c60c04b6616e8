import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { openEmbeddedStore, type TsdbError } from '../src/index.js'
import { crashBatch, crashBatchSize } from './fixtures/crash-batch.js'

const dirs: string[] = []
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-tsdb-durability-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const NOW = Date.UTC(2026, 0, 10)
const HOUR = 3_600_000

/** Runs the crash writer until it has acknowledged `acks` batches, then SIGKILLs it. */
async function writeAndKill(
  dir: string,
  start: number,
  acks: number,
  mode = 'closed',
): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=strata-source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures/crash-writer.ts'),
      dir,
      String(start),
      mode,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const acked: number[] = []
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^ack (\d+)$/.exec(line)
    if (match !== null) acked.push(Number(match[1]))
    if (acked.length >= acks) {
      child.kill('SIGKILL')
      break
    }
  }
  await exited
  return acked
}

async function killAgainAndAgain(mode: string, rounds: number): Promise<void> {
  const dir = freshDir()
  const acked = new Set<number>()
  let start = 0
  for (let round = 0; round < rounds; round++) {
    const got = await writeAndKill(dir, start, 5 + ((round * 13) % 40), mode)
    for (const k of got) acked.add(k)
    start = Math.max(...got) + 10
    const store = await openEmbeddedStore(dir)
    try {
      const present = new Set<number>()
      for await (const s of store.readAll({
        selector: { tenant: 'crash' },
        from: 0,
        to: NOW,
        limit: 50_000,
      })) {
        for (let i = 0; i < s.times.length; i++) {
          assert.equal(s.values[i], (s.times[i] as number) / 1000, 'every value matches its time')
          present.add(s.times[i] as number)
        }
      }
      for (const k of acked) {
        const batch = crashBatch(k)
        for (const t of batch.times)
          assert.ok(
            present.has(t),
            `batch ${String(k)} point ${String(t)} acknowledged but lost (round ${String(round)})`,
          )
      }
    } finally {
      await store.close()
    }
  }
  assert.ok(acked.size * crashBatchSize > 40_000)
}

describe('embedded store durability', () => {
  it('loses no acknowledged point when the writer is killed with SIGKILL, again and again', () =>
    killAgainAndAgain('closed', 8))

  it('loses no acknowledged point when killed while checkpoints carry unsealed points over', () =>
    killAgainAndAgain('open', 5))

  it('cuts a torn last log record and refuses a damaged segment that later ones follow', async () => {
    const dir = freshDir()
    const store = await openEmbeddedStore(dir, { now: () => NOW, checkpointIntervalMs: 3_600_000 })
    await store.write([
      { series: { tenant: 't', device: 'd', metric: 'm' }, times: [NOW - 1000], values: [1] },
    ])
    // Leave the log unsealed, as a crash would: copy it aside before close seals it.
    const walDir = join(dir, 'wal')
    const segment = readdirSync(walDir)[0] as string
    const bytes = readFileSync(join(walDir, segment))
    await store.close()
    for (const name of readdirSync(walDir)) rmSync(join(walDir, name))
    writeFileSync(join(walDir, segment), bytes)
    appendFileSync(join(walDir, segment), Buffer.from([40, 0, 0, 0, 1, 2, 3]))
    const reopened = await openEmbeddedStore(dir, { now: () => NOW })
    assert.equal(reopened.tornBytesAtOpen, 7)
    const page = await reopened.read({ selector: { tenant: 't' }, from: 0, to: NOW })
    assert.deepEqual(
      page.series.map((s) => s.values),
      [[1]],
    )
    await reopened.close()

    const damaged = freshDir()
    const first = await openEmbeddedStore(damaged, { now: () => NOW })
    await first.close()
    const walDamaged = join(damaged, 'wal')
    writeFileSync(
      join(walDamaged, '0000000001.wal'),
      Buffer.concat([bytes, Buffer.from([9, 9, 9, 9, 9, 9, 9, 9, 9])]),
    )
    writeFileSync(join(walDamaged, '0000000002.wal'), bytes)
    await assert.rejects(
      openEmbeddedStore(damaged, { now: () => NOW }),
      (err: TsdbError) => err.code === 'TSDB_WAL_CORRUPT',
    )
  })

  it('reports a damaged chunk with its series and keeps every other series readable', async () => {
    const dir = freshDir()
    const warnings: unknown[] = []
    let store = await openEmbeddedStore(dir, { now: () => NOW })
    const series = (device: string) => ({ tenant: 't', device, metric: 'temp' })
    const times = Array.from({ length: 100 }, (_, i) => NOW - HOUR + i * 1000)
    await store.write([
      { series: series('good'), times, values: times.map((_, i) => 20 + i / 100) },
      { series: series('bad'), times, values: times.map((_, i) => 20 + i / 100) },
    ])
    await store.close()
    const db = new Database(join(dir, 'catalogue.db'))
    const row = db
      .prepare(
        "SELECT c.id, c.body FROM chunks c JOIN series s ON s.id = c.series_id WHERE s.device = 'bad'",
      )
      .get() as { id: number; body: Buffer }
    // The points come last in a chunk's body: damage a byte among them.
    const at = row.body.length - 10
    row.body[at] = (row.body[at] as number) ^ 0xff
    db.prepare('UPDATE chunks SET body = ? WHERE id = ?').run(row.body, row.id)
    db.close()

    store = await openEmbeddedStore(dir, {
      now: () => NOW,
      onBackgroundError: (err) => warnings.push(err),
    })
    await assert.rejects(
      store.read({ selector: { tenant: 't', device: 'bad' }, from: 0, to: NOW }),
      (err: TsdbError) => err.code === 'TSDB_CHUNK_CORRUPT' && err.message.includes('t/bad/temp'),
    )
    const good = await store.read({ selector: { tenant: 't', device: 'good' }, from: 0, to: NOW })
    assert.equal(good.series[0]?.times.length, 100)
    // A write into the damaged chunk's range seals past it: the chunk goes to quarantine.
    await store.write([{ series: series('bad'), times: [NOW - HOUR + 500], values: [1] }])
    await store.close()
    assert.equal(warnings.length, 1)
    store = await openEmbeddedStore(dir, { now: () => NOW })
    const bad = await store.read({ selector: { tenant: 't', device: 'bad' }, from: 0, to: NOW })
    assert.deepEqual(
      bad.series.map((s) => s.values),
      [[1]],
    )
    assert.equal((await store.stats()).detail['quarantinedChunks'], 1)
    await store.close()
  })

  it('refuses a second store on the same folder, and takes over a dead process lock', async () => {
    const dir = freshDir()
    const store = await openEmbeddedStore(dir)
    await assert.rejects(openEmbeddedStore(dir), (err: TsdbError) => err.code === 'TSDB_LOCKED')
    await store.close()
    writeFileSync(join(dir, 'LOCK'), '999999')
    const again = await openEmbeddedStore(dir)
    await again.close()
  })
})
