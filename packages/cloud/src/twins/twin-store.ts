import type { StateDb } from '../db/state-db.js'
import { CloudError } from '../errors.js'
import { applyMergePatch, type JsonObject } from '@strata/protocol'
import { touchMetadata } from './twin-metadata.js'
import { checkPatchDepth, serializeDocument, type TwinLimits } from './twin-limits.js'

/** The two documents of a twin: what the cloud wants, and what the device says it is. */
export type TwinSide = 'desired' | 'reported'

/** One side of a twin: its document, version, per-property times (JSON pointer → ms), last change. */
export interface TwinSideState {
  readonly document: JsonObject
  readonly version: number
  readonly metadata: Readonly<Record<string, number>>
  readonly updatedAt: number | null
}

/** A twin as stored. `deliveredVersion` is the last desired version the device is known to hold. */
export interface TwinState {
  readonly deviceId: string
  readonly desired: TwinSideState
  readonly reported: TwinSideState
  readonly deliveredVersion: number
  readonly deliveredAt: number | null
}

/** One change of a twin, as its history keeps it. */
export interface TwinChange {
  readonly seq: number
  readonly deviceId: string
  readonly side: TwinSide
  readonly version: number
  /** `user:<id>`, `token:<id>`, `device`, later `rule:<id>`. */
  readonly source: string
  readonly at: number
  readonly patch: JsonObject
}

export interface TwinHistoryQuery {
  readonly side?: TwinSide
  readonly from?: number
  readonly to?: number
  /** Only changes with a smaller seq (the page cursor). */
  readonly beforeSeq?: number
  readonly limit: number
}

interface TwinRow {
  device_id: string
  desired: string
  desired_version: number
  desired_meta: string
  desired_updated_at: number | null
  reported: string
  reported_version: number
  reported_meta: string
  reported_updated_at: number | null
  delivered_version: number
  delivered_at: number | null
}

interface HistoryRow {
  seq: number
  device_id: string
  side: TwinSide
  version: number
  source: string
  at: number
  patch: string
}

const empty: TwinSideState = { document: {}, version: 0, metadata: {}, updatedAt: null }

/**
 * Twins in the state database: one row per device (both documents, their versions and
 * per-property times), every change in `twin_history` as the merge patch it was, and a baseline
 * per side that the oldest changes fold into beyond `historyMaxEntries`.
 */
export class TwinStore {
  readonly #db: StateDb
  readonly #limits: TwinLimits

  constructor(db: StateDb, limits: TwinLimits) {
    this.#db = db
    this.#limits = limits
  }

  /** The device's twin; both sides empty at version 0 before its first change. */
  read(deviceId: string): TwinState {
    const row = this.#db.prepare('SELECT * FROM twins WHERE device_id = ?').get(deviceId) as
      TwinRow | undefined
    if (row === undefined) {
      return { deviceId, desired: empty, reported: empty, deliveredVersion: 0, deliveredAt: null }
    }
    return toState(row)
  }

  /**
   * Merges a patch into one side in one transaction: checks the limits, bumps the version, keeps
   * the change in the history. `check` sees the twin first and may refuse (If-Match). A patch that
   * leaves the document as it was changes nothing (`change` undefined).
   */
  apply(
    device: { readonly id: string; readonly tenantId: string },
    side: TwinSide,
    patch: JsonObject,
    source: string,
    now: number,
    check: (current: TwinState) => void = () => undefined,
  ): { state: TwinState; change: TwinChange | undefined } {
    checkPatchDepth(patch, this.#limits, side)
    return this.#db.transaction(() => {
      const current = this.read(device.id)
      check(current)
      const before = current[side]
      const document = applyMergePatch(before.document, patch) as JsonObject
      const json = serializeDocument(document, this.#limits, side)
      // A patch that changes nothing is no change: no version, no history, nothing to send.
      if (json === JSON.stringify(before.document)) return { state: current, change: undefined }
      const metadata = JSON.stringify(touchMetadata(before.metadata, patch, now))
      const version = before.version + 1
      this.#db
        .prepare('INSERT OR IGNORE INTO twins (device_id, tenant_id) VALUES (?, ?)')
        .run(device.id, device.tenantId)
      // `side` is one of two literals, never input: safe to name columns with.
      this.#db
        .prepare(
          `UPDATE twins SET ${side} = ?, ${side}_version = ?, ${side}_meta = ?, ${side}_updated_at = ?
           WHERE device_id = ?`,
        )
        .run(json, version, metadata, now, device.id)
      const patchJson = JSON.stringify(patch)
      const seq = Number(
        this.#db
          .prepare(
            'INSERT INTO twin_history (device_id, side, version, source, at, patch) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(device.id, side, version, source, now, patchJson).lastInsertRowid,
      )
      this.#compact(device.id, side, version)
      const change: TwinChange = { seq, deviceId: device.id, side, version, source, at: now, patch }
      return { state: this.read(device.id), change }
    })()
  }

  /** Records that the device holds desired `version` (never lowers it). */
  markDelivered(deviceId: string, version: number, now: number): void {
    this.#db
      .prepare(
        'UPDATE twins SET delivered_version = ?, delivered_at = ? WHERE device_id = ? AND delivered_version < ?',
      )
      .run(version, now, deviceId, version)
  }

  /** Changes newest first. */
  history(deviceId: string, q: TwinHistoryQuery): TwinChange[] {
    const where = ['device_id = ?']
    const args: unknown[] = [deviceId]
    const add = (sql: string, v: unknown) => {
      where.push(sql)
      args.push(v)
    }
    if (q.side !== undefined) add('side = ?', q.side)
    if (q.from !== undefined) add('at >= ?', q.from)
    if (q.to !== undefined) add('at <= ?', q.to)
    if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq)
    const rows = this.#db
      .prepare(`SELECT * FROM twin_history WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args, q.limit) as HistoryRow[]
    return rows.map(toChange)
  }

  /**
   * One side as it was at time `at`: the baseline, then every change up to `at` replayed.
   * `CLOUD_NOT_FOUND` when `at` is before the oldest change still kept.
   */
  sideAt(deviceId: string, side: TwinSide, at: number): TwinSideState {
    const base = this.#baseline(deviceId, side)
    const since = base?.updatedAt ?? undefined
    if (since !== undefined && at < since) {
      throw new CloudError(
        'CLOUD_NOT_FOUND',
        `the ${side} history of device ${deviceId} before ${new Date(since).toISOString()} was folded into a baseline`,
        { hint: 'Ask for a later time; only the latest changes of each side are kept as patches.' },
      )
    }
    return this.#replay(deviceId, side, base, 'at', at)
  }

  /** The baseline with the side's changes up to a time or a version applied, oldest first. */
  #replay(
    deviceId: string,
    side: TwinSide,
    base: TwinSideState | undefined,
    column: 'at' | 'version',
    upTo: number,
  ): TwinSideState {
    let state: TwinSideState = base ?? empty
    for (const row of this.#db
      .prepare(
        `SELECT * FROM twin_history WHERE device_id = ? AND side = ? AND ${column} <= ? ORDER BY seq`,
      )
      .iterate(deviceId, side, upTo) as Iterable<HistoryRow>) {
      const patch = JSON.parse(row.patch) as JsonObject
      state = {
        document: applyMergePatch(state.document, patch) as JsonObject,
        version: row.version,
        metadata: touchMetadata(state.metadata, patch, row.at),
        updatedAt: row.at,
      }
    }
    return state
  }

  #baseline(deviceId: string, side: TwinSide): TwinSideState | undefined {
    const row = this.#db
      .prepare('SELECT * FROM twin_baselines WHERE device_id = ? AND side = ?')
      .get(deviceId, side) as
      { version: number; at: number; document: string; metadata: string } | undefined
    if (row === undefined) return undefined
    return {
      document: JSON.parse(row.document) as JsonObject,
      version: row.version,
      metadata: JSON.parse(row.metadata) as Record<string, number>,
      updatedAt: row.at,
    }
  }

  /** Folds the oldest changes into the baseline once a side keeps 10 % more than the limit. */
  #compact(deviceId: string, side: TwinSide, version: number): void {
    const keep = this.#limits.historyMaxEntries
    const base = this.#baseline(deviceId, side)
    // Versions go up by one per change, so the count kept is the distance from the baseline.
    if (version - (base?.version ?? 0) <= keep + Math.ceil(keep / 10)) return
    const upTo = version - keep
    const folded = this.#replay(deviceId, side, base, 'version', upTo)
    const last = folded.updatedAt ?? 0
    this.#db
      .prepare(
        `INSERT INTO twin_baselines (device_id, side, version, at, document, metadata) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_id, side) DO UPDATE SET version = excluded.version, at = excluded.at,
           document = excluded.document, metadata = excluded.metadata`,
      )
      .run(
        deviceId,
        side,
        upTo,
        last,
        JSON.stringify(folded.document),
        JSON.stringify(folded.metadata),
      )
    this.#db
      .prepare('DELETE FROM twin_history WHERE device_id = ? AND side = ? AND version <= ?')
      .run(deviceId, side, upTo)
  }
}

function toState(r: TwinRow): TwinState {
  const side = (doc: string, version: number, meta: string, at: number | null): TwinSideState => ({
    document: JSON.parse(doc) as JsonObject,
    version,
    metadata: JSON.parse(meta) as Record<string, number>,
    updatedAt: at,
  })
  return {
    deviceId: r.device_id,
    desired: side(r.desired, r.desired_version, r.desired_meta, r.desired_updated_at),
    reported: side(r.reported, r.reported_version, r.reported_meta, r.reported_updated_at),
    deliveredVersion: r.delivered_version,
    deliveredAt: r.delivered_at,
  }
}

function toChange(r: HistoryRow): TwinChange {
  return {
    seq: r.seq,
    deviceId: r.device_id,
    side: r.side,
    version: r.version,
    source: r.source,
    at: r.at,
    patch: JSON.parse(r.patch) as JsonObject,
  }
}
