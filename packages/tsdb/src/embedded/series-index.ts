import { checkSelector, selectorMatches } from '../model/selector.js'
import type { Value, ValueType } from '../model/points.js'
import type { SeriesSelector } from '../model/queries.js'
import type { SeriesKey } from '../model/series.js'
import type { ChunkValues } from '../chunk/index.js'
import { SeriesHead } from './head.js'

/** A series' newest point. */
export interface LatestPoint {
  readonly time: number
  readonly value: Value
}

/** A series in memory: its identity, type, unsealed points and the newest point, once known. */
export interface SeriesEntry {
  readonly id: number
  readonly key: Required<SeriesKey>
  readonly canonical: string
  readonly type: ValueType
  head: SeriesHead
  /** The newest point; undefined until computed, null when the series holds none. */
  latest: LatestPoint | null | undefined
}

/** Every series of a store, by id, by canonical key and by tenant. */
export class SeriesIndex {
  readonly #byId = new Map<number, SeriesEntry>()
  readonly #byCanonical = new Map<string, SeriesEntry>()
  readonly #byTenant = new Map<string, SeriesEntry[]>()
  readonly #sortedTenants = new Set<string>()

  get size(): number {
    return this.#byId.size
  }

  add(row: {
    id: number
    key: Required<SeriesKey>
    canonical: string
    type: ValueType
  }): SeriesEntry {
    const entry: SeriesEntry = { ...row, head: new SeriesHead(row.type), latest: undefined }
    this.#byId.set(entry.id, entry)
    this.#byCanonical.set(entry.canonical, entry)
    let list = this.#byTenant.get(entry.key.tenant)
    if (list === undefined) {
      list = []
      this.#byTenant.set(entry.key.tenant, list)
    }
    list.push(entry)
    this.#sortedTenants.delete(entry.key.tenant)
    return entry
  }

  byId(id: number): SeriesEntry | undefined {
    return this.#byId.get(id)
  }

  byCanonical(canonical: string): SeriesEntry | undefined {
    return this.#byCanonical.get(canonical)
  }

  all(): IterableIterator<SeriesEntry> {
    return this.#byId.values()
  }

  /** The series a selector matches, in canonical key order. */
  match(selector: SeriesSelector): SeriesEntry[] {
    checkSelector(selector)
    const list = this.#byTenant.get(selector.tenant)
    if (list === undefined) return []
    if (!this.#sortedTenants.has(selector.tenant)) {
      list.sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0))
      this.#sortedTenants.add(selector.tenant)
    }
    return list.filter((entry) => selectorMatches(selector, entry.key))
  }
}

/** Keeps a series' known latest point (when known) up to date with appended points. */
export function updateLatest(entry: SeriesEntry, times: Float64Array, values: ChunkValues): void {
  if (entry.latest === undefined) return
  let time = entry.latest === null ? -Infinity : entry.latest.time
  let at = -1
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number
    if (t >= time) {
      time = t
      at = i
    }
  }
  if (at < 0) return
  const v = values[at] as number | bigint | string
  entry.latest = { time, value: entry.type === 'bool' ? v === 1 : v }
}
