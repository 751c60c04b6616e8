import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { decodeCursor, pageOf, seqCursor, type Page } from '../http/cursor.js'
import type { Device } from '../registry/device-registry.js'
import { labelQuerySql, parseLabelQuery } from '../registry/label-query.js'
import type { JsonObject } from '@strata/protocol'
import { defaultTwinLimits, type TwinLimits } from './twin-limits.js'
import { parseTwinQuery, twinQuerySql } from './twin-query.js'
import {
  TwinStore,
  type TwinChange,
  type TwinHistoryQuery,
  type TwinSide,
  type TwinState,
} from './twin-store.js'

/** A twin as the API shows it. `asOf` is set when it was rebuilt for a past time. */
export interface Twin {
  readonly deviceId: string
  readonly desired: JsonObject
  readonly reported: JsonObject
  readonly desiredVersion: number
  readonly reportedVersion: number
  /** Per side: JSON pointer of each property → when it last changed (epoch ms). */
  readonly metadata: {
    readonly desired: Readonly<Record<string, number>>
    readonly reported: Readonly<Record<string, number>>
  }
  readonly desiredUpdatedAt: number | null
  readonly reportedUpdatedAt: number | null
  /** The last desired version the device is known to hold (sent while it listened, or asked for). */
  readonly deliveredDesiredVersion: number
  readonly asOf: number | null
}

/** Called after the desired side changed, with the new version and the patch that made it. */
export type DesiredChangeListener = (deviceId: string, version: number, patch: JsonObject) => void

/** Called after the device changed its reported side, with the new version and its patch. */
export type ReportedChangeListener = (deviceId: string, version: number, patch: JsonObject) => void

/**
 * Device twins: the desired and reported documents of each device, their history, the twin as it
 * was at any time, and fleet queries over them. Desired changes come from the API (permission
 * `twin:write`, audited, optionally conditional on the desired version); reported ones from the
 * device over MQTT. The node hears of each desired change through `onDesiredChange` to send it.
 */
export class DeviceTwins {
  readonly store: TwinStore
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #lookup: (deviceId: string) => Device | undefined
  readonly #listeners: DesiredChangeListener[] = []
  readonly #reportedListeners: ReportedChangeListener[] = []

  constructor(
    deps: {
      db: StateDb
      audit: AuditLog
      clock: () => number
      /** The device behind an id, any tenant (`DeviceRegistry.lookup`). */
      lookup: (deviceId: string) => Device | undefined
    },
    limits: Partial<TwinLimits> = {},
  ) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#lookup = deps.lookup
    this.store = new TwinStore(deps.db, { ...defaultTwinLimits, ...limits })
  }

  /** Registers a listener for desired changes (the node's twin sync). */
  onDesiredChange(listener: DesiredChangeListener): void {
    this.#listeners.push(listener)
  }

  /** Registers a listener for reported changes (the live feed). */
  onReportedChange(listener: ReportedChangeListener): void {
    this.#reportedListeners.push(listener)
  }

  /** The device's twin now, or as it was at `at` (epoch ms) rebuilt from its history. */
  get(principal: Principal, deviceId: string, options: { at?: number } = {}): Twin {
    requirePermission(principal, 'twin:read')
    const device = this.#own(principal, deviceId)
    const state = this.store.read(device.id)
    if (options.at === undefined) return toTwin(state, null)
    return toTwin(
      {
        ...state,
        desired: this.store.sideAt(device.id, 'desired', options.at),
        reported: this.store.sideAt(device.id, 'reported', options.at),
      },
      options.at,
    )
  }

  /**
   * Merges a patch (RFC 7396) into the desired side. With `ifMatch` (an `If-Match` header value:
   * a desired version, quoted or not, a twin ETag `"D.R"`, a list of them, or `*`), refuses with
   * `CLOUD_PRECONDITION_FAILED` unless the desired version is the one named.
   */
  patchDesired(
    principal: Principal,
    deviceId: string,
    patch: JsonObject,
    options: { ifMatch?: string } = {},
  ): Twin {
    requirePermission(principal, 'twin:write')
    const device = this.#own(principal, deviceId)
    if (device.state === 'revoked')
      throw new CloudError('CLOUD_CONFLICT', `device ${deviceId} is revoked`)
    const { state, change } = this.#db.transaction(() => {
      const applied = this.store.apply(
        device,
        'desired',
        patch,
        principal.actor,
        this.#clock(),
        (t) => checkIfMatch(options.ifMatch, t.desired.version),
      )
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: 'twin.desired.update',
        target: `device:${device.id}`,
        outcome: 'ok',
        details: {
          version: applied.state.desired.version,
          changed: applied.change !== undefined,
          properties: Object.keys(patch).slice(0, 100),
        },
      })
      return applied
    })()
    if (change !== undefined)
      for (const listener of this.#listeners) listener(device.id, change.version, patch)
    return toTwin(state, null)
  }

  /** One page of the twin's changes, newest first. */
  history(
    principal: Principal,
    deviceId: string,
    q: Omit<TwinHistoryQuery, 'beforeSeq'> & { cursor?: string },
  ): Page<TwinChange> {
    requirePermission(principal, 'twin:read')
    const device = this.#own(principal, deviceId)
    const before = seqCursor(q.cursor)
    const rows = this.store.history(device.id, {
      ...(q.side === undefined ? {} : { side: q.side }),
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      ...(before === undefined ? {} : { beforeSeq: before }),
      limit: q.limit + 1,
    })
    return pageOf(rows, q.limit, (c) => String(c.seq))
  }

  /**
   * One page of the tenant's twins (by device id) that satisfy a fleet query (`where`, see
   * `parseTwinQuery`) and a label query (`labels`, as for devices). Revoked devices are left out.
   */
  query(
    principal: Principal,
    q: { where?: string; labels?: string; limit: number; cursor?: string },
  ): Page<Twin> {
    requirePermission(principal, 'twin:read')
    const where = ['d.tenant_id = ?', "d.state != 'revoked'"]
    const params: unknown[] = [principal.tenantId]
    if (q.cursor !== undefined) {
      where.push('d.id > ?')
      params.push(decodeCursor(q.cursor))
    }
    if (q.where !== undefined && q.where.trim() !== '') {
      const t = twinQuerySql(parseTwinQuery(q.where), {
        reported: "COALESCE(t.reported, '{}')",
        desired: "COALESCE(t.desired, '{}')",
        attributes: 'd.attributes',
      })
      where.push(t.sql)
      params.push(...t.params)
    }
    if (q.labels !== undefined && q.labels.trim() !== '') {
      const l = labelQuerySql('d.labels', parseLabelQuery(q.labels))
      where.push(l.sql)
      params.push(...l.params)
    }
    const ids = this.#db
      .prepare(
        `SELECT d.id FROM devices d LEFT JOIN twins t ON t.device_id = d.id
         WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT ?`,
      )
      .pluck()
      .all(...params, q.limit + 1) as string[]
    const page = pageOf(ids, q.limit, (id) => id)
    return {
      items: page.items.map((id) => toTwin(this.store.read(id), null)),
      nextCursor: page.nextCursor,
    }
  }

  /** The device's reported patch, from MQTT: merged, versioned, kept in the history as `device`. */
  applyReported(deviceId: string, patch: JsonObject): TwinState {
    const device = this.#lookup(deviceId)
    if (device === undefined) throw notFound('device', deviceId)
    const { state, change } = this.store.apply(device, 'reported', patch, 'device', this.#clock())
    if (change !== undefined)
      for (const listener of this.#reportedListeners) listener(device.id, change.version, patch)
    return state
  }

  /** The device's twin, for the node's own paths (MQTT). */
  read(deviceId: string): TwinState {
    return this.store.read(deviceId)
  }

  /** Records that the device now holds desired `version`. */
  markDelivered(deviceId: string, version: number): void {
    this.store.markDelivered(deviceId, version, this.#clock())
  }

  #own(principal: Principal, deviceId: string): Device {
    const device = this.#lookup(deviceId)
    if (device?.tenantId !== principal.tenantId) throw notFound('device', deviceId)
    return device
  }
}

/** The twin's ETag: both versions, so that it changes whenever either side does. */
export function twinEtag(twin: Pick<Twin, 'desiredVersion' | 'reportedVersion'>): string {
  return `"${String(twin.desiredVersion)}.${String(twin.reportedVersion)}"`
}

/** Throws `CLOUD_PRECONDITION_FAILED` unless `ifMatch` names the desired version (or is `*`). */
function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return
  const tags = ifMatch.split(',').map((t) => t.trim())
  const ok = tags.some((t) => {
    if (t === '*') return true
    const m = /^"?(\d+)(?:\.\d+)?"?$/.exec(t)
    return m !== null && Number(m[1]) === version
  })
  if (!ok) {
    throw new CloudError(
      'CLOUD_PRECONDITION_FAILED',
      `If-Match ${JSON.stringify(ifMatch.slice(0, 80))} does not match the desired version ${String(version)}`,
      {
        hint: 'Read the twin again (GET …/twin), apply your change to what it holds now, and send If-Match with its desired version.',
        details: { desiredVersion: version },
      },
    )
  }
}

function toTwin(s: TwinState, asOf: number | null): Twin {
  return {
    deviceId: s.deviceId,
    desired: s.desired.document,
    reported: s.reported.document,
    desiredVersion: s.desired.version,
    reportedVersion: s.reported.version,
    metadata: { desired: s.desired.metadata, reported: s.reported.metadata },
    desiredUpdatedAt: s.desired.updatedAt,
    reportedUpdatedAt: s.reported.updatedAt,
    deliveredDesiredVersion: s.deliveredVersion,
    asOf,
  }
}

export type { TwinSide }
