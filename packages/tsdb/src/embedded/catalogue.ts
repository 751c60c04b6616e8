import Database from 'better-sqlite3'
import { TsdbError } from '../errors.js'
import type { Precision, ValueType } from '../model/points.js'
import type { SeriesSelector } from '../model/queries.js'
import { retentionSelectorKey } from '../model/retention.js'
import type { SeriesKey } from '../model/series.js'

const schemaVersion = 1

/** A series row. */
export interface SeriesRow {
  readonly id: number
  readonly key: Required<SeriesKey>
  readonly canonical: string
  readonly type: ValueType
}

/** A chunk's catalogue row, without its bytes. */
export interface ChunkRow {
  readonly id: number
  readonly seriesId: number
  readonly minTime: number
  readonly maxTime: number
  readonly count: number
}

/** A chunk to store: its encoded points and rollups. */
export interface NewChunk {
  readonly seriesId: number
  readonly minTime: number
  readonly maxTime: number
  readonly count: number
  readonly data: Uint8Array
  readonly rollups: Uint8Array
}

interface RawChunkRow {
  id: number
  series_id: number
  min_t: number
  max_t: number
  count: number
}

/**
 * The catalogue: one SQLite file holding the series, the sealed chunks (their compressed bytes
 * and rollups as blobs, so replacing chunks is one atomic transaction) and the retention rules.
 */
export class Catalogue {
  readonly #db: Database.Database
  readonly #insertSeries: Database.Statement<[string, string, string, string, string, string]>
  readonly #chunksInRange: Database.Statement<[number, number, number], RawChunkRow>
  readonly #lastBefore: Database.Statement<[number, number], RawChunkRow>
  readonly #chunkBody: Database.Statement<[number], { body: Buffer }>
  readonly #insertChunk: Database.Statement<[number, number, number, number, Uint8Array]>
  readonly #deleteChunk: Database.Statement<[number]>

  constructor(path: string, precision: Precision) {
    try {
      this.#db = new Database(path)
      // Small pages: each chunk's blob wastes half its last overflow page on average. Both
      // settings only take effect on a new file, before the first table.
      this.#db.pragma('page_size = 512')
      this.#db.pragma('auto_vacuum = INCREMENTAL')
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = FULL')
      this.#migrate(precision)
    } catch (err) {
      if (err instanceof TsdbError) throw err
      throw new TsdbError(
        'TSDB_STORE_CORRUPT',
        `${path}: cannot open the catalogue: ${(err as Error).message}`,
        {
          cause: err,
          hint: 'Is this a Strata data folder? Restore the folder from a backup or start with an empty one.',
        },
      )
    }
    const db = this.#db
    this.#insertSeries = db.prepare(
      'INSERT INTO series (canonical, tenant, device, metric, tags, type) VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.#chunksInRange = db.prepare(
      'SELECT id, series_id, min_t, max_t, count FROM chunks WHERE series_id = ? AND max_t >= ? AND min_t < ? ORDER BY min_t',
    )
    this.#lastBefore = db.prepare(
      'SELECT id, series_id, min_t, max_t, count FROM chunks WHERE series_id = ? AND min_t < ? ORDER BY min_t DESC LIMIT 1',
    )
    this.#chunkBody = db.prepare('SELECT body FROM chunks WHERE id = ?')
    this.#insertChunk = db.prepare(
      'INSERT INTO chunks (series_id, min_t, max_t, count, body) VALUES (?, ?, ?, ?, ?)',
    )
    this.#deleteChunk = db.prepare('DELETE FROM chunks WHERE id = ?')
  }

  #migrate(precision: Precision): void {
    const db = this.#db
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > schemaVersion) {
      throw new TsdbError(
        'TSDB_STORE_CORRUPT',
        `the catalogue has schema ${String(version)}; this build knows ${String(schemaVersion)}`,
        {
          hint: 'Open the folder with the Strata version that wrote it.',
        },
      )
    }
    if (version === 0) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        CREATE TABLE series (
          id INTEGER PRIMARY KEY,
          canonical TEXT NOT NULL UNIQUE,
          tenant TEXT NOT NULL, device TEXT NOT NULL, metric TEXT NOT NULL,
          tags TEXT NOT NULL, type TEXT NOT NULL
        ) STRICT;
        CREATE TABLE chunks (
          -- AUTOINCREMENT: a chunk id is never reused, so caches keyed by id never go stale
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          series_id INTEGER NOT NULL REFERENCES series(id),
          min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, count INTEGER NOT NULL,
          -- one blob (rollups, then points): a blob's last overflow page is half empty on average
          body BLOB NOT NULL
        ) STRICT;
        CREATE INDEX chunks_by_series ON chunks (series_id, min_t);
        CREATE TABLE quarantine (
          id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL,
          min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, count INTEGER NOT NULL,
          body BLOB NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL
        ) STRICT;
        -- key: retentionSelectorKey(selector), the same for equal selectors in any order
        CREATE TABLE retention (
          key TEXT PRIMARY KEY, selector TEXT NOT NULL, max_age INTEGER NOT NULL
        ) STRICT;
      `)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('precision', precision)
      db.pragma(`user_version = ${String(schemaVersion)}`)
    }
    const stored = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('precision')
    if (stored !== precision) {
      throw new TsdbError(
        'TSDB_QUERY_INVALID',
        `the store holds ${String(stored)} timestamps; it was opened for ${precision}`,
        {
          hint: `Open it with precision '${String(stored)}'.`,
        },
      )
    }
  }

  /** Every series, for the in-memory index. */
  allSeries(): SeriesRow[] {
    const rows = this.#db
      .prepare('SELECT id, canonical, tenant, device, metric, tags, type FROM series')
      .all() as {
      id: number
      canonical: string
      tenant: string
      device: string
      metric: string
      tags: string
      type: ValueType
    }[]
    return rows.map((r) => ({
      id: r.id,
      canonical: r.canonical,
      type: r.type,
      key: {
        tenant: r.tenant,
        device: r.device,
        metric: r.metric,
        tags: JSON.parse(r.tags) as Record<string, string>,
      },
    }))
  }

  /** Stores new series durably (before any log record names them) and returns their ids. */
  addSeries(
    series: readonly { key: Required<SeriesKey>; canonical: string; type: ValueType }[],
  ): number[] {
    return this.#db.transaction(() =>
      series.map((s) =>
        Number(
          this.#insertSeries.run(
            s.canonical,
            s.key.tenant,
            s.key.device,
            s.key.metric,
            JSON.stringify(s.key.tags),
            s.type,
          ).lastInsertRowid,
        ),
      ),
    )()
  }

  /** Chunks of a series overlapping [from, to), in time order. */
  chunks(seriesId: number, from: number, to: number): ChunkRow[] {
    return this.#chunksInRange.all(seriesId, from, to).map(toChunkRow)
  }

  /**
   * Windows holding more chunks than their points need (`ceil(points / maxPoints)`), with their
   * chunk count and the newest time they hold: what compaction may join.
   */
  fragmentedWindows(
    window: number,
    maxPoints: number,
  ): { seriesId: number; windowStart: number; parts: number; points: number }[] {
    return (
      this.#db
        .prepare(
          `SELECT series_id AS seriesId, (min_t / @window) * @window AS windowStart, count(*) AS parts, sum(count) AS points
           FROM chunks GROUP BY series_id, min_t / @window
          HAVING count(*) > (sum(count) + @max - 1) / @max
          ORDER BY series_id, windowStart`,
        )
        // Bound as integers: a JS number binds as REAL, and REAL division would put every chunk
        // in a window of its own.
        .all({ window: BigInt(window), max: BigInt(maxPoints) }) as {
        seriesId: number
        windowStart: number
        parts: number
        points: number
      }[]
    )
  }

  /** The last chunk of a series that starts before `time`. */
  lastChunkBefore(seriesId: number, time: number): ChunkRow | undefined {
    const row = this.#lastBefore.get(seriesId, time)
    return row === undefined ? undefined : toChunkRow(row)
  }

  /** A chunk's encoded points. */
  chunkData(id: number): Buffer {
    const body = this.#body(id)
    return body.subarray(4 + rollupsLength(body))
  }

  /** A chunk's encoded rollups. */
  chunkRollups(id: number): Buffer {
    const body = this.#body(id)
    return body.subarray(4, 4 + rollupsLength(body))
  }

  #body(id: number): Buffer {
    const row = this.#chunkBody.get(id)
    if (row === undefined)
      throw new TsdbError('TSDB_IO', `chunk ${String(id)} vanished while being read`)
    return row.body
  }

  /** Replaces chunks in one durable transaction. */
  replaceChunks(remove: readonly number[], add: readonly NewChunk[]): void {
    this.#db.transaction(() => {
      for (const id of remove) this.#deleteChunk.run(id)
      for (const c of add)
        this.#insertChunk.run(c.seriesId, c.minTime, c.maxTime, c.count, chunkBody(c))
    })()
  }

  /** Moves a damaged chunk out of the store's way, keeping its bytes for inspection. */
  quarantine(id: number, reason: string): void {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          'INSERT INTO quarantine (id, series_id, min_t, max_t, count, body, reason, at) SELECT id, series_id, min_t, max_t, count, body, ?, ? FROM chunks WHERE id = ?',
        )
        .run(reason, Date.now(), id)
      this.#deleteChunk.run(id)
    })()
  }

  /** Chunks moved to quarantine. */
  quarantined(): number {
    return this.#db.prepare('SELECT count(*) FROM quarantine').pluck().get() as number
  }

  /** Points and chunks held in chunks. */
  totals(): { points: number; chunks: number; chunkBytes: number } {
    const row = this.#db
      .prepare(
        'SELECT coalesce(sum(count), 0) AS points, count(*) AS chunks, coalesce(sum(length(body)), 0) AS bytes FROM chunks',
      )
      .get() as { points: number; chunks: number; bytes: number }
    return { points: row.points, chunks: row.chunks, chunkBytes: row.bytes }
  }

  retentionRules(): { selector: SeriesSelector; maxAge: number }[] {
    return (
      this.#db.prepare('SELECT selector, max_age FROM retention ORDER BY key').all() as {
        selector: string
        max_age: number
      }[]
    ).map((r) => ({
      selector: JSON.parse(r.selector) as SeriesSelector,
      maxAge: r.max_age,
    }))
  }

  setRetention(selector: SeriesSelector, maxAge: number | null): void {
    const key = retentionSelectorKey(selector)
    if (maxAge === null) this.#db.prepare('DELETE FROM retention WHERE key = ?').run(key)
    else
      this.#db
        .prepare(
          'INSERT INTO retention (key, selector, max_age) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET selector = excluded.selector, max_age = excluded.max_age',
        )
        .run(key, JSON.stringify(selector), maxAge)
  }

  /** Folds SQLite's own log into the main file (after a checkpoint of ours). */
  checkpoint(): void {
    this.#db.pragma('incremental_vacuum')
    this.#db.pragma('wal_checkpoint(TRUNCATE)')
  }

  close(): void {
    this.#db.close()
  }
}

/** The stored form of a chunk: rollups length (u32 LE), rollups, points. */
function chunkBody(chunk: NewChunk): Buffer {
  const head = Buffer.allocUnsafe(4)
  head.writeUInt32LE(chunk.rollups.length, 0)
  return Buffer.concat([head, chunk.rollups, chunk.data])
}

/** The rollups length a body starts with, bounded by the body (a damaged prefix reads as 0). */
function rollupsLength(body: Buffer): number {
  if (body.length < 4) return 0
  const length = body.readUInt32LE(0)
  return length <= body.length - 4 ? length : 0
}

function toChunkRow(r: RawChunkRow): ChunkRow {
  return { id: r.id, seriesId: r.series_id, minTime: r.min_t, maxTime: r.max_t, count: r.count }
}
