import { isName } from '@strata/protocol'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { decodeCursor, pageOf, type Page } from '../http/cursor.js'
import type { Device } from './device-registry.js'
import { labelQuerySql, matchesLabels, parseLabelQuery } from './label-query.js'

/**
 * A group of devices. A static group lists its members; a dynamic one holds a label query and its
 * members are whichever devices match it now (never stored).
 */
export interface Group {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly kind: 'static' | 'dynamic'
  /** The label query of a dynamic group (`site=berlin,!retired`); null for a static one. */
  readonly query: string | null
  readonly createdAt: number
}

export interface NewGroup {
  readonly id: string
  readonly name?: string
  /** Makes the group dynamic. */
  readonly query?: string
}

interface GroupRow {
  id: string
  tenant_id: string
  name: string
  query: string | null
  created_at: number
}

/**
 * Device groups of a tenant. Revoked devices are in no group; deleted ones leave with their row.
 * Every change is audited.
 */
export class DeviceGroups {
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #lookup: (deviceId: string) => Device | undefined

  constructor(deps: {
    db: StateDb
    audit: AuditLog
    clock: () => number
    /** The device behind an id, any tenant (`DeviceRegistry.lookup`). */
    lookup: (deviceId: string) => Device | undefined
  }) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#lookup = deps.lookup
  }

  create(principal: Principal, input: NewGroup): Group {
    requirePermission(principal, 'devices:write')
    if (!isName(input.id)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `group id ${JSON.stringify(input.id.slice(0, 80))} must be 1–128 of A–Z a–z 0–9 . _ -, not starting with . or _`,
        { details: { field: 'id' } },
      )
    }
    const query = input.query === undefined ? null : checkQuery(input.query)
    return this.#db.transaction(() => {
      if (this.#row(principal.tenantId, input.id) !== undefined)
        throw new CloudError('CLOUD_CONFLICT', `group ${input.id} exists`)
      this.#db
        .prepare(
          'INSERT INTO groups (id, tenant_id, name, query, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(input.id, principal.tenantId, input.name ?? input.id, query, this.#clock())
      const group = this.#own(principal, input.id)
      this.#audited(principal, 'group.create', input.id, { kind: group.kind, query })
      return group
    })()
  }

  get(principal: Principal, id: string): Group {
    requirePermission(principal, 'devices:read')
    return this.#own(principal, id)
  }

  /** One page of the tenant's groups in id order. */
  list(principal: Principal, q: { limit: number; cursor?: string }): Page<Group> {
    requirePermission(principal, 'devices:read')
    const after = q.cursor === undefined ? '' : decodeCursor(q.cursor)
    const rows = this.#db
      .prepare('SELECT * FROM groups WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(principal.tenantId, after, q.limit + 1) as GroupRow[]
    return pageOf(rows.map(toGroup), q.limit, (g) => g.id)
  }

  /** Deletes a group (its devices stay). */
  delete(principal: Principal, id: string): void {
    requirePermission(principal, 'devices:write')
    this.#own(principal, id)
    this.#db.transaction(() => {
      this.#db
        .prepare('DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?')
        .run(principal.tenantId, id)
      this.#db
        .prepare('DELETE FROM groups WHERE tenant_id = ? AND id = ?')
        .run(principal.tenantId, id)
      this.#audited(principal, 'group.delete', id, {})
    })()
  }

  /** One page of the group's members in device id order; a dynamic group's are evaluated now. */
  members(principal: Principal, id: string, q: { limit: number; cursor?: string }): Page<Device> {
    requirePermission(principal, 'devices:read')
    const group = this.#own(principal, id)
    const after = q.cursor === undefined ? '' : decodeCursor(q.cursor)
    let ids: string[]
    if (group.query === null) {
      ids = this.#db
        .prepare(
          `SELECT d.id FROM group_members m JOIN devices d ON d.id = m.device_id
           WHERE m.tenant_id = ? AND m.group_id = ? AND d.tenant_id = m.tenant_id
             AND d.state != 'revoked' AND d.id > ?
           ORDER BY d.id LIMIT ?`,
        )
        .pluck()
        .all(principal.tenantId, id, after, q.limit + 1) as string[]
    } else {
      const { sql, params } = labelQuerySql('labels', parseLabelQuery(group.query))
      ids = this.#db
        .prepare(
          `SELECT id FROM devices WHERE tenant_id = ? AND state != 'revoked' AND id > ? AND ${sql}
           ORDER BY id LIMIT ?`,
        )
        .pluck()
        .all(principal.tenantId, after, ...params, q.limit + 1) as string[]
    }
    const devices = ids.map((d) => this.#lookup(d)).filter((d) => d !== undefined)
    return pageOf(devices, q.limit, (d) => d.id)
  }

  /**
   * Adds devices of the tenant to a static group, all or none; ones already in it are skipped.
   * Returns the ids it added.
   */
  addMembers(principal: Principal, id: string, deviceIds: readonly string[]): string[] {
    requirePermission(principal, 'devices:write')
    const group = this.#ownStatic(principal, id)
    deviceIds.forEach((deviceId, i) => {
      const device = this.#lookup(deviceId)
      if (device?.tenantId !== principal.tenantId) {
        throw new CloudError('CLOUD_INVALID', `no device ${deviceId} in your tenant`, {
          details: { field: `deviceIds/${String(i)}` },
        })
      }
      if (device.state === 'revoked')
        throw new CloudError('CLOUD_CONFLICT', `device ${deviceId} is revoked`)
    })
    return this.#db.transaction(() => {
      const insert = this.#db.prepare(
        'INSERT OR IGNORE INTO group_members (tenant_id, group_id, device_id) VALUES (?, ?, ?)',
      )
      const added = [...new Set(deviceIds)].filter(
        (d) => insert.run(principal.tenantId, group.id, d).changes > 0,
      )
      this.#audited(principal, 'group.members.add', id, { devices: added })
      return added
    })()
  }

  /** Takes a device out of a static group; `CLOUD_NOT_FOUND` when it is not in it. */
  removeMember(principal: Principal, id: string, deviceId: string): void {
    requirePermission(principal, 'devices:write')
    this.#ownStatic(principal, id)
    this.#db.transaction(() => {
      const { changes } = this.#db
        .prepare('DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND device_id = ?')
        .run(principal.tenantId, id, deviceId)
      if (changes === 0) throw notFound('member of group', deviceId)
      this.#audited(principal, 'group.members.remove', id, { devices: [deviceId] })
    })()
  }

  /**
   * The groups a device is in now, in id order, whatever its tenant: for the node's own paths and
   * for routes that have checked the device's tenant. Revoked or unknown devices are in none.
   */
  groupsOf(deviceId: string): Group[] {
    const device = this.#lookup(deviceId)
    if (device === undefined || device.state === 'revoked') return []
    const rows = this.#db
      .prepare(
        `SELECT g.* FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
         WHERE m.device_id = ? AND m.tenant_id = ? AND g.query IS NULL`,
      )
      .all(deviceId, device.tenantId) as GroupRow[]
    const dynamic = this.#db
      .prepare('SELECT * FROM groups WHERE tenant_id = ? AND query IS NOT NULL')
      .all(device.tenantId) as GroupRow[]
    // The same terms labelQuerySql turns into SQL, evaluated on one device's labels.
    for (const g of dynamic)
      if (matchesLabels(device.labels, parseLabelQuery(g.query ?? ''))) rows.push(g)
    return rows.map(toGroup).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  #ownStatic(principal: Principal, id: string): Group {
    const group = this.#own(principal, id)
    if (group.kind === 'dynamic') {
      throw new CloudError(
        'CLOUD_CONFLICT',
        `group ${id} is dynamic: its members are the devices matching ${group.query ?? ''}`,
        { hint: "Change the devices' labels, or use a static group." },
      )
    }
    return group
  }

  #own(principal: Principal, id: string): Group {
    const row = this.#row(principal.tenantId, id)
    if (row === undefined) throw notFound('group', id)
    return toGroup(row)
  }

  #row(tenantId: string, id: string): GroupRow | undefined {
    return this.#db
      .prepare('SELECT * FROM groups WHERE tenant_id = ? AND id = ?')
      .get(tenantId, id) as GroupRow | undefined
  }

  #audited(principal: Principal, action: string, id: string, details: Record<string, unknown>) {
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action,
      target: `group:${id}`,
      outcome: 'ok',
      details,
    })
  }
}

/** A label query as stored: parsed once to refuse a bad one (naming the field `query`). */
function checkQuery(query: string): string {
  const trimmed = query.trim()
  try {
    parseLabelQuery(trimmed)
  } catch (err) {
    if (!(err instanceof CloudError)) throw err
    throw new CloudError('CLOUD_INVALID', err.message, {
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      details: { field: 'query' },
      cause: err,
    })
  }
  return trimmed
}

function toGroup(r: GroupRow): Group {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    kind: r.query === null ? 'static' : 'dynamic',
    query: r.query,
    createdAt: r.created_at,
  }
}
