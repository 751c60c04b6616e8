import type pg from 'pg'
import { TsdbError } from '../errors.js'
import { checkSeriesCount, type QueryLimits } from '../model/limits.js'
import type { ValueType } from '../model/points.js'
import type { PreparedBatch } from '../model/prepare-write.js'
import { describe } from '../model/prepare-write.js'
import type { SeriesSelector, TagMatcher } from '../model/queries.js'
import { checkSelector, selectorDevices } from '../model/selector.js'
import type { SeriesKey } from '../model/series.js'
import type { Database } from './database.js'

/** A series as the store knows it: its row id (int8, kept as text), key and type. */
export interface SeriesRow {
  readonly id: string
  readonly canonical: string
  readonly key: Required<SeriesKey>
  readonly type: ValueType
}

interface SeriesRecord {
  id: string
  canonical: string
  tenant: string
  device: string
  metric: string
  tags: Record<string, string>
  type: ValueType
}

const seriesColumns = 'id, canonical, tenant, device, metric, tags, type'

/**
 * The series table: finds the series a selector matches (tag matchers become parameterised
 * jsonb conditions) and registers the series of a write. Ids of committed series are cached;
 * series are never removed, so the cache cannot go stale.
 */
export class SeriesCatalog {
  readonly #db: Database
  readonly #known = new Map<string, { id: string; type: ValueType }>()

  constructor(db: Database) {
    this.#db = db
  }

  /** The series a selector matches, in canonical key order; refuses more than `maxSeries`. */
  async resolve(
    selector: SeriesSelector,
    limits: QueryLimits,
    signal?: AbortSignal,
  ): Promise<SeriesRow[]> {
    checkSelector(selector)
    const params: unknown[] = []
    const where = selectorSql(selector, params)
    const rows = await this.#db.query<SeriesRecord>(
      `SELECT ${seriesColumns} FROM series WHERE ${where} ORDER BY canonical LIMIT ${String(limits.maxSeries + 1)}`,
      params,
      signal,
    )
    if (rows.length > limits.maxSeries) {
      const [count] = await this.#db.query<{ n: string }>(
        `SELECT count(*) AS n FROM series WHERE ${where}`,
        params,
        signal,
      )
      checkSeriesCount(Number(count?.n), limits)
    }
    return rows.map(toSeriesRow)
  }

  /** Every series, or those of some tenants, in canonical key order. */
  async ofTenants(tenants: readonly string[]): Promise<SeriesRow[]> {
    const rows = await this.#db.query<SeriesRecord>(
      `SELECT ${seriesColumns} FROM series WHERE tenant = ANY($1) ORDER BY canonical`,
      [tenants],
    )
    return rows.map(toSeriesRow)
  }

  /**
   * The ids of a write's series, creating missing ones inside the write's transaction. Throws
   * `TSDB_TYPE_MISMATCH` when a series already holds another type. Call `remember` with the
   * result once the transaction has committed.
   */
  async register(
    client: pg.PoolClient,
    batches: readonly PreparedBatch[],
  ): Promise<Map<string, string>> {
    const ids = new Map<string, string>()
    const missing = batches.filter((b) => {
      const known = this.#known.get(b.canonical)
      if (known === undefined) return true
      checkType(b, known.type)
      ids.set(b.canonical, known.id)
      return false
    })
    if (missing.length === 0) return ids
    // One insertion order for every writer: two writes creating the same series never deadlock.
    missing.sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0))
    const canonicals = missing.map((b) => b.canonical)
    await client.query(
      `INSERT INTO series (canonical, tenant, device, metric, tags, type)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[])
       ON CONFLICT (canonical) DO NOTHING`,
      [
        canonicals,
        missing.map((b) => b.key.tenant),
        missing.map((b) => b.key.device),
        missing.map((b) => b.key.metric),
        missing.map((b) => JSON.stringify(b.key.tags)),
        missing.map((b) => b.type),
      ],
    )
    const { rows } = await client.query<{ id: string; canonical: string; type: ValueType }>(
      'SELECT id, canonical, type FROM series WHERE canonical = ANY($1)',
      [canonicals],
    )
    const types = new Map(rows.map((r) => [r.canonical, r]))
    for (const batch of missing) {
      const row = types.get(batch.canonical)
      if (row === undefined) throw new TsdbError('TSDB_IO', `series ${batch.canonical} vanished`)
      checkType(batch, row.type)
      ids.set(batch.canonical, row.id)
    }
    return ids
  }

  /** Caches the ids of series whose creation has committed. */
  remember(batches: readonly PreparedBatch[], ids: ReadonlyMap<string, string>): void {
    for (const batch of batches) {
      const id = ids.get(batch.canonical)
      if (id !== undefined) this.#known.set(batch.canonical, { id, type: batch.type })
    }
  }
}

function checkType(batch: PreparedBatch, type: ValueType): void {
  if (batch.type !== type) {
    throw new TsdbError(
      'TSDB_TYPE_MISMATCH',
      `${describe(batch.key)}: ${batch.type} values for a series that holds ${type} values`,
      {
        hint: 'A series keeps the type of its first point; write other types under another metric.',
      },
    )
  }
}

function toSeriesRow(row: SeriesRecord): SeriesRow {
  const tags: Record<string, string> = {}
  // jsonb orders keys by length first; series keys order tags by name.
  for (const name of Object.keys(row.tags).sort()) tags[name] = row.tags[name] as string
  return {
    id: row.id,
    canonical: row.canonical,
    key: { tenant: row.tenant, device: row.device, metric: row.metric, tags },
    type: row.type,
  }
}

/**
 * The WHERE condition of a selector over the series table; values go to `params` (never into
 * the SQL text).
 */
export function selectorSql(selector: SeriesSelector, params: unknown[]): string {
  const param = (value: unknown) => `$${String(params.push(value))}`
  const conditions = [`tenant = ${param(selector.tenant)}`]
  const devices = selectorDevices(selector)
  if (devices !== undefined) conditions.push(`device = ANY(${param(devices)}::text[])`)
  if (selector.metric !== undefined) conditions.push(`metric = ${param(selector.metric)}`)
  for (const matcher of selector.tags ?? []) conditions.push(tagSql(matcher, param))
  return conditions.join(' AND ')
}

function tagSql(matcher: TagMatcher, param: (value: unknown) => string): string {
  if (matcher.op === '=') {
    // Containment can use the GIN index.
    return `tags @> ${param(JSON.stringify({ [matcher.name]: matcher.value }))}::jsonb`
  }
  const name = param(matcher.name)
  switch (matcher.op) {
    case '!=':
      return `tags ->> ${name} IS DISTINCT FROM ${param(matcher.value)}`
    case 'in':
      return `tags ->> ${name} = ANY(${param(matcher.values)}::text[])`
    case 'not in':
      return `(tags ->> ${name} IS NULL OR NOT tags ->> ${name} = ANY(${param(matcher.values)}::text[]))`
    case 'exists':
      return `tags ? ${name}`
    case 'absent':
      return `NOT tags ? ${name}`
  }
}
