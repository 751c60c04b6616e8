/**
 * The peer: a plain PostgreSQL table `(series_id int, ts timestamptz, value float8)` with an
 * index on `(series_id, ts)`, loaded with COPY, queried with `date_bin` — how most teams would
 * store sensor data in PostgreSQL without an extension.
 */
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { asFloat, type Dataset } from './dataset.js'

export class PlainTablePeer {
  readonly #pool: pg.Pool

  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 4 })
  }

  async create(): Promise<void> {
    await this.#pool.query(`
      CREATE TABLE points (series_id int NOT NULL, ts timestamptz NOT NULL, value float8 NOT NULL);
      CREATE INDEX points_series_ts ON points (series_id, ts);
    `)
  }

  /**
   * Loads COPY payloads (from {@link copyPayloads}), each its own committed, durable COPY, on
   * `inFlight` connections at once — the same concurrency our engines get.
   */
  async load(payloads: readonly string[], inFlight: number): Promise<void> {
    let next = 0
    const worker = async (): Promise<void> => {
      const client = await this.#pool.connect()
      try {
        while (next < payloads.length) {
          const text = payloads[next++] as string
          await pipeline(
            Readable.from([text]),
            client.query(copyFrom('COPY points (series_id, ts, value) FROM STDIN')),
          )
        }
      } finally {
        client.release()
      }
    }
    await Promise.all(Array.from({ length: inFlight }, worker))
  }

  /** Writes every page the load dirtied to the table's and index's files and syncs them. */
  async checkpoint(): Promise<void> {
    await this.#pool.query('CHECKPOINT')
  }

  async vacuum(): Promise<void> {
    await this.#pool.query('VACUUM ANALYZE points')
    await this.#pool.query('CHECKPOINT')
  }

  async bytes(): Promise<number> {
    const { rows } = await this.#pool.query<{ bytes: string }>(
      "SELECT pg_total_relation_size('points') AS bytes",
    )
    return Number(rows[0]?.bytes)
  }

  /** Per-bucket mean, min and max over the given series (grouped per series or all together). */
  async buckets(
    ids: readonly number[],
    from: number,
    to: number,
    bucket: string,
    perSeries: boolean,
  ): Promise<number> {
    const group = perSeries ? 'series_id, ' : ''
    const { rowCount } = await this.#pool.query(
      `SELECT ${group}date_bin($1::interval, ts, 'epoch') AS b, avg(value), min(value), max(value)
         FROM points WHERE series_id = ANY($2) AND ts >= to_timestamp($3 / 1000.0) AND ts < to_timestamp($4 / 1000.0)
        GROUP BY ${group}b ORDER BY ${group}b`,
      [bucket, ids, from, to],
    )
    return rowCount ?? 0
  }

  /** The newest point of each series, one index probe per series. */
  async latest(ids: readonly number[]): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `SELECT s.id, p.ts, p.value FROM unnest($1::int[]) AS s(id)
         CROSS JOIN LATERAL (SELECT ts, value FROM points WHERE series_id = s.id ORDER BY ts DESC LIMIT 1) p`,
      [ids],
    )
    return rowCount ?? 0
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }
}

/** The dataset as COPY text in batches of `batch` rows, built before the clock starts. */
export function copyPayloads(data: Dataset, batch: number): string[] {
  return [...rowsOf(data, batch)]
}

function* rowsOf(data: Dataset, batch: number): Generator<string> {
  let lines: string[] = []
  for (const s of data.series) {
    for (let i = 0; i < s.times.length; i++) {
      lines.push(
        `${String(s.index)}\t${new Date(s.times[i] as number).toISOString()}\t${String(asFloat(s.values[i] as number))}`,
      )
      if (lines.length >= batch) {
        yield lines.join('\n') + '\n'
        lines = []
      }
    }
  }
  if (lines.length > 0) yield lines.join('\n') + '\n'
}
