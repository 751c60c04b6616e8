import { isDeviceId } from '@strata/protocol'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import type { Page } from '../http/cursor.js'
import type { SecretStore } from '../secrets/secret-store.js'
import {
  mayConnect,
  nextDeviceState,
  type DeviceState,
  type LifecycleAction,
} from './device-lifecycle.js'
import { deviceListSortSql, encodeSortCursor, type DeviceListSort } from './device-list-sort.js'
import { countFleet, type FleetSummary } from './fleet-summary.js'
import { checkLabels, labelQuerySql, parseLabelQuery, type Labels } from './label-query.js'
import { likeFilter } from '../db/like-filter.js'

export interface Device {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly profileId: string | null
  readonly state: DeviceState
  /** Why the device is in its state (the last transition's reason). */
  readonly stateReason: string
  readonly labels: Labels
  readonly attributes: Readonly<Record<string, unknown>>
  readonly createdAt: number
  readonly updatedAt: number
}

export interface NewDevice {
  readonly id: string
  readonly name?: string
  readonly profileId?: string
  readonly labels?: Labels
  readonly attributes?: Readonly<Record<string, unknown>>
}

export interface DeviceListQuery {
  readonly limit: number
  readonly cursor?: string
  readonly state?: DeviceState
  /** A label query (`site=berlin,!retired`). */
  readonly labels?: string
  /** Prefix of the id or name. */
  readonly search?: string
  /** The order, `id` when absent; the cursor continues the sort it came from. */
  readonly sort?: DeviceListSort
}

interface DeviceRow {
  id: string
  tenant_id: string
  name: string
  profile_id: string | null
  state: DeviceState
  state_reason: string
  labels: string
  attributes: string
  created_at: number
  updated_at: number
}

/** Largest attributes document of a device, in bytes of JSON. */
const maxAttributesBytes = 16 * 1024

/**
 * The device registry: devices of a tenant, their lifecycle, and their tokens. Every change is
 * audited. When a device loses the right to connect (disabled, revoked, its token revoked),
 * `onAccessCut` is called so the node can drop its live session at once.
 */
export class DeviceRegistry {
  readonly #db: StateDb
  readonly #secrets: SecretStore
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #onAccessCut: (deviceId: string, reason: string) => void
  readonly #onProfileChange: (deviceId: string) => void
  readonly #onChange: (deviceId: string) => void

  constructor(deps: {
    db: StateDb
    secrets: SecretStore
    audit: AuditLog
    clock: () => number
    onAccessCut?: (deviceId: string, reason: string) => void
    onProfileChange?: (deviceId: string) => void
    /**
     * Told after a device's name, labels, attributes, profile or lifecycle state changed, so
     * that caches of it (the rules' context) forget it at once.
     */
    onChange?: (deviceId: string) => void
  }) {
    this.#db = deps.db
    this.#secrets = deps.secrets
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#onAccessCut = deps.onAccessCut ?? (() => undefined)
    this.#onProfileChange = deps.onProfileChange ?? (() => undefined)
    this.#onChange = deps.onChange ?? (() => undefined)
  }

  /** Registers a device; `pending` when the tenant approves devices first, else `provisioned`. */
  create(principal: Principal, input: NewDevice): Device {
    requirePermission(principal, 'devices:write')
    if (!isDeviceId(input.id)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `device id ${JSON.stringify(input.id.slice(0, 80))} must be 1–64 of A–Z a–z 0–9 . _ : -, starting with a letter or digit`,
        { details: { field: 'id' } },
      )
    }
    checkLabels(input.labels ?? {})
    const attributes = JSON.stringify(input.attributes ?? {})
    if (Buffer.byteLength(attributes) > maxAttributesBytes) {
      throw new CloudError('CLOUD_INVALID', 'device attributes are over 16 KiB of JSON', {
        details: { field: 'attributes' },
      })
    }
    const created = this.#db.transaction(() => {
      // Device ids are MQTT client ids: unique on the node, across tenants. Saying "exists" leaks
      // no more than a failed connect would.
      if (this.#row(input.id) !== undefined)
        throw new CloudError('CLOUD_CONFLICT', `device id ${input.id} is taken`)
      const approval =
        this.#db
          .prepare('SELECT require_approval FROM tenants WHERE id = ?')
          .pluck()
          .get(principal.tenantId) === 1
      if (input.profileId !== undefined) this.#checkProfile(principal, input.profileId)
      const now = this.#clock()
      const state: DeviceState = approval ? 'pending' : 'provisioned'
      this.#db
        .prepare(
          `INSERT INTO devices (id, tenant_id, name, profile_id, state, state_reason, labels, attributes, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.id,
          principal.tenantId,
          input.name ?? input.id,
          input.profileId ?? null,
          state,
          'created',
          JSON.stringify(input.labels ?? {}),
          attributes,
          now,
          now,
        )
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: 'device.create',
        target: `device:${input.id}`,
        outcome: 'ok',
        details: { state },
      })
      return this.#device(input.id)
    })()
    this.#onProfileChange(input.id)
    return created
  }

  /** A device of the caller's tenant; `CLOUD_NOT_FOUND` for any other. */
  get(principal: Principal, id: string): Device {
    requirePermission(principal, 'devices:read')
    return this.#own(principal, id)
  }

  /** One page of the tenant's devices in the order asked (id by default), keyset-paged. */
  list(principal: Principal, q: DeviceListQuery): Page<Device> {
    requirePermission(principal, 'devices:read')
    const sort = q.sort ?? 'id'
    const { after, orderBy } = deviceListSortSql(sort, q.cursor)
    const where = ['tenant_id = ?']
    const params: unknown[] = [principal.tenantId]
    if (after !== undefined) {
      where.push(after.sql)
      params.push(...after.params)
    }
    if (q.state !== undefined) {
      where.push('state = ?')
      params.push(q.state)
    }
    if (q.labels !== undefined && q.labels !== '') {
      const { sql, params: p } = labelQuerySql('labels', parseLabelQuery(q.labels))
      where.push(sql)
      params.push(...p)
    }
    if (q.search !== undefined && q.search !== '') {
      const search = likeFilter(['id', 'name'], q.search, 'prefix')
      where.push(search.sql)
      params.push(...search.args)
    }
    const rows = this.#db
      .prepare(`SELECT * FROM devices WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ?`)
      .all(...params, q.limit + 1) as DeviceRow[]
    const items = rows.slice(0, q.limit).map(toDevice)
    const last = items.at(-1)
    return {
      items,
      nextCursor: rows.length > q.limit && last !== undefined ? encodeSortCursor(sort, last) : null,
    }
  }

  /**
   * Counts of the tenant's devices by state and presence. The caller flushes pending presence
   * changes first (the node's route does).
   */
  summary(principal: Principal): FleetSummary {
    requirePermission(principal, 'devices:read')
    return countFleet(this.#db, principal.tenantId)
  }

  /** Changes name, labels, attributes or profile (each replaced as a whole when given). */
  update(
    principal: Principal,
    id: string,
    patch: {
      name?: string
      labels?: Labels
      attributes?: Readonly<Record<string, unknown>>
      /** null clears it. */
      profileId?: string | null
    },
  ): Device {
    requirePermission(principal, 'devices:write')
    const device = this.#own(principal, id)
    if (patch.labels !== undefined) checkLabels(patch.labels)
    const attributes = JSON.stringify(patch.attributes ?? device.attributes)
    if (Buffer.byteLength(attributes) > maxAttributesBytes) {
      throw new CloudError('CLOUD_INVALID', 'device attributes are over 16 KiB of JSON', {
        details: { field: 'attributes' },
      })
    }
    const updated = this.#db.transaction(() => {
      if (typeof patch.profileId === 'string') this.#checkProfile(principal, patch.profileId)
      this.#db
        .prepare(
          'UPDATE devices SET name = ?, labels = ?, attributes = ?, profile_id = ?, updated_at = ? WHERE id = ?',
        )
        .run(
          patch.name ?? device.name,
          JSON.stringify(patch.labels ?? device.labels),
          attributes,
          patch.profileId === undefined ? device.profileId : patch.profileId,
          this.#clock(),
          id,
        )
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: 'device.update',
        target: `device:${id}`,
        outcome: 'ok',
        details: { fields: Object.keys(patch) },
      })
      return this.#device(id)
    })()
    if (patch.profileId !== undefined) this.#onProfileChange(id)
    this.#onChange(id)
    return updated
  }

  /** Moves a device through its lifecycle; disabling or revoking cuts its live session at once. */
  transition(
    principal: Principal,
    id: string,
    action: Exclude<LifecycleAction, 'connect'>,
    reason = '',
  ): Device {
    requirePermission(principal, action === 'revoke' ? 'devices:revoke' : 'devices:write')
    const device = this.#own(principal, id)
    const state = nextDeviceState(device.state, action, id)
    const updated = this.#db.transaction(() => {
      this.#db
        .prepare('UPDATE devices SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?')
        .run(state, reason || action, this.#clock(), id)
      if (action === 'revoke') {
        this.#secrets.revokeAll('device', id)
        this.#db
          .prepare(
            "UPDATE certificates SET revoked_at = ?, revoke_reason = 'device revoked' WHERE device_id = ? AND revoked_at IS NULL",
          )
          .run(this.#clock(), id)
      }
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: `device.${action}`,
        target: `device:${id}`,
        outcome: 'ok',
        details: { from: device.state, to: state, reason },
      })
      return this.#device(id)
    })()
    if (!mayConnect(state)) this.#onAccessCut(id, `device ${state}`)
    this.#onChange(id)
    return updated
  }

  /** The device behind an id, whatever its tenant: for the node's own paths (MQTT, ingestion). */
  lookup(id: string): Device | undefined {
    const row = this.#row(id)
    return row === undefined ? undefined : toDevice(row)
  }

  /** Marks a device `active` on its first connection. */
  markConnected(id: string): void {
    this.#db
      .prepare(
        "UPDATE devices SET state = 'active', state_reason = 'connected', updated_at = ? WHERE id = ? AND state = 'provisioned'",
      )
      .run(this.#clock(), id)
  }

  #own(principal: Principal, id: string): Device {
    const row = this.#row(id)
    if (row?.tenant_id !== principal.tenantId) throw notFound('device', id)
    return toDevice(row)
  }

  #checkProfile(principal: Principal, profileId: string): void {
    const exists = this.#db
      .prepare('SELECT 1 FROM profiles WHERE tenant_id = ? AND id = ?')
      .get(principal.tenantId, profileId)
    if (exists === undefined) {
      throw new CloudError('CLOUD_INVALID', `no profile ${profileId} in your tenant`, {
        hint: 'Create it first (POST /api/v1/profiles), or leave profileId out.',
        details: { field: 'profileId' },
      })
    }
  }

  #row(id: string): DeviceRow | undefined {
    return this.#db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | undefined
  }

  #device(id: string): Device {
    return toDevice(this.#row(id) as DeviceRow)
  }
}

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    profileId: r.profile_id,
    state: r.state,
    stateReason: r.state_reason,
    labels: JSON.parse(r.labels) as Labels,
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}
