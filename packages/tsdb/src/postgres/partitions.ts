import type { Database } from './database.js'

/**
 * Partitions of the points table: one per UTC day, `points_YYYYMMDD`, created on demand. A day
 * keeps the partition count low for years of data and is the unit retention drops whole.
 */
export const partitionWidthMs = 86_400_000

/** The start (ms) of the partition holding a time in ms. */
export function partitionStart(timeMs: number): number {
  return Math.floor(timeMs / partitionWidthMs) * partitionWidthMs
}

/** The partition's table name. */
export function partitionName(startMs: number): string {
  return `points_${new Date(startMs).toISOString().slice(0, 10).replaceAll('-', '')}`
}

/** The start (ms) of a partition named by `partitionName`, or undefined for other tables. */
function startOfName(name: string): number | undefined {
  const match = /^points_(\d{4})(\d{2})(\d{2})$/.exec(name)
  if (match === null) return undefined
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
}

/** Tracks which partitions exist and creates missing ones, safely under concurrency. */
export class Partitions {
  readonly #db: Database
  readonly #known = new Set<number>()

  constructor(db: Database) {
    this.#db = db
  }

  /**
   * Makes sure the partitions starting at `starts` (ms) exist. Creation runs in its own short
   * transaction under an advisory lock, so stores racing for the same day create it once.
   */
  async ensure(starts: Iterable<number>): Promise<void> {
    const missing = [...new Set(starts)].filter((s) => !this.#known.has(s))
    if (missing.length === 0) return
    await this.#db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [
        `${this.#db.schema}/partitions`,
      ])
      const existing = new Set(await this.#listWith((sql) => client.query(sql)))
      for (const start of missing.sort((a, b) => a - b)) {
        if (existing.has(start)) continue
        const name = partitionName(start)
        const from = new Date(start).toISOString()
        const to = new Date(start + partitionWidthMs).toISOString()
        // CREATE + ATTACH rather than CREATE … PARTITION OF: attaching locks `points` only in
        // SHARE UPDATE EXCLUSIVE mode, so reads and writes of other days go on meanwhile.
        await client.query(`CREATE TABLE ${name} (LIKE points INCLUDING ALL)`)
        await client.query(
          `ALTER TABLE points ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`,
        )
      }
    })
    for (const start of missing) this.#known.add(start)
  }

  /** Partition starts (ms) as the catalogue has them now, ascending. */
  async list(): Promise<number[]> {
    return this.#listWith((sql) => this.#db.withClient((client) => client.query(sql)))
  }

  /** Forgets what is cached (another store dropped a partition). */
  forget(): void {
    this.#known.clear()
  }

  /** Marks a partition gone after dropping it. */
  dropped(start: number): void {
    this.#known.delete(start)
  }

  async #listWith(
    query: (sql: string) => Promise<{ rows: { relname: string }[] }>,
  ): Promise<number[]> {
    const { rows } = await query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'points'::regclass`,
    )
    const starts: number[] = []
    for (const row of rows) {
      const start = startOfName(row.relname)
      if (start !== undefined) starts.push(start)
    }
    return starts.sort((a, b) => a - b)
  }
}
