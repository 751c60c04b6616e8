import { isName } from '@strata/protocol'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { checkSpec, type ProfileSpec } from './profile-spec.js'

export {
  asInvalidField,
  checkSpec,
  defaultProfileLimits,
  profileLimitsOf,
  ProfileSpec,
  type EffectiveLimits,
} from './profile-spec.js'

export interface Profile {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly description: string
  readonly spec: ProfileSpec
  readonly createdAt: number
  readonly updatedAt: number
}

export interface NewProfile {
  readonly id: string
  readonly name?: string
  readonly description?: string
  readonly spec?: unknown
}

export interface ProfilePatch {
  readonly name?: string
  readonly description?: string
  /** Replaces the spec as a whole. */
  readonly spec?: unknown
}

interface ProfileRow {
  id: string
  tenant_id: string
  name: string
  description: string
  spec: string
  created_at: number
  updated_at: number
}

/**
 * Device profiles of a tenant: what a kind of device sends and its limits. `forDevice` serves the
 * ingestion path from memory; changes through this class or `forgetDevice` keep it current.
 */
export class DeviceProfiles {
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  /** device id → `tenant\0profile` key, or null for a device without a profile. */
  readonly #deviceRefs = new Map<string, string | null>()
  /** `tenant\0profile` → spec. */
  readonly #specs = new Map<string, ProfileSpec>()

  constructor(deps: { db: StateDb; audit: AuditLog; clock: () => number }) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
  }

  create(principal: Principal, input: NewProfile): Profile {
    requirePermission(principal, 'devices:write')
    if (!isName(input.id)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `profile id ${JSON.stringify(input.id.slice(0, 80))} must be 1–128 of A–Z a–z 0–9 . _ -, not starting with . or _`,
        { details: { field: 'id' } },
      )
    }
    const spec = checkSpec(input.spec ?? {})
    return this.#db.transaction(() => {
      if (this.#row(principal.tenantId, input.id) !== undefined)
        throw new CloudError('CLOUD_CONFLICT', `profile ${input.id} exists`)
      const now = this.#clock()
      this.#db
        .prepare(
          `INSERT INTO profiles (id, tenant_id, name, description, spec, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.id,
          principal.tenantId,
          input.name ?? input.id,
          input.description ?? '',
          JSON.stringify(spec),
          now,
          now,
        )
      this.#audited(principal, 'profile.create', input.id, {})
      return this.#own(principal, input.id)
    })()
  }

  get(principal: Principal, id: string): Profile {
    requirePermission(principal, 'devices:read')
    return this.#own(principal, id)
  }

  /** The tenant's profiles in id order (a tenant has a handful: no paging). */
  list(principal: Principal): Profile[] {
    requirePermission(principal, 'devices:read')
    const rows = this.#db
      .prepare('SELECT * FROM profiles WHERE tenant_id = ? ORDER BY id')
      .all(principal.tenantId) as ProfileRow[]
    return rows.map(toProfile)
  }

  update(principal: Principal, id: string, patch: ProfilePatch): Profile {
    requirePermission(principal, 'devices:write')
    const profile = this.#own(principal, id)
    const spec = patch.spec === undefined ? profile.spec : checkSpec(patch.spec)
    const updated = this.#db.transaction(() => {
      this.#db
        .prepare(
          'UPDATE profiles SET name = ?, description = ?, spec = ?, updated_at = ? WHERE tenant_id = ? AND id = ?',
        )
        .run(
          patch.name ?? profile.name,
          patch.description ?? profile.description,
          JSON.stringify(spec),
          this.#clock(),
          principal.tenantId,
          id,
        )
      this.#audited(principal, 'profile.update', id, { fields: Object.keys(patch) })
      return this.#own(principal, id)
    })()
    this.#specs.delete(specKey(principal.tenantId, id))
    return updated
  }

  /** Deletes a profile no device refers to (revoked devices too); `CLOUD_CONFLICT` otherwise. */
  delete(principal: Principal, id: string): void {
    requirePermission(principal, 'devices:write')
    this.#own(principal, id)
    this.#db.transaction(() => {
      const users = this.#db
        .prepare('SELECT count(*) FROM devices WHERE tenant_id = ? AND profile_id = ?')
        .pluck()
        .get(principal.tenantId, id) as number
      if (users > 0) {
        throw new CloudError(
          'CLOUD_CONFLICT',
          `profile ${id} is used by ${String(users)} device${users === 1 ? '' : 's'}`,
          {
            hint: 'Give those devices another profile (PATCH /api/v1/devices/{id} with profileId) first.',
            details: { devices: users },
          },
        )
      }
      this.#db
        .prepare('DELETE FROM profiles WHERE tenant_id = ? AND id = ?')
        .run(principal.tenantId, id)
      this.#audited(principal, 'profile.delete', id, {})
    })()
    this.#specs.delete(specKey(principal.tenantId, id))
  }

  /**
   * The spec of the device's profile, undefined when it has none (or is unknown). Called for every
   * message: after the first call per device it is two Map lookups.
   */
  forDevice(deviceId: string): ProfileSpec | undefined {
    let ref = this.#deviceRefs.get(deviceId)
    if (ref === undefined) {
      const row = this.#db
        .prepare('SELECT tenant_id, profile_id FROM devices WHERE id = ?')
        .get(deviceId) as { tenant_id: string; profile_id: string | null } | undefined
      ref =
        row === undefined || row.profile_id === null ? null : specKey(row.tenant_id, row.profile_id)
      this.#deviceRefs.set(deviceId, ref)
    }
    if (ref === null) return undefined
    let spec = this.#specs.get(ref)
    if (spec === undefined) {
      const [tenantId = '', id = ''] = ref.split('\0')
      const row = this.#row(tenantId, id)
      if (row === undefined) return undefined
      spec = JSON.parse(row.spec) as ProfileSpec
      this.#specs.set(ref, spec)
    }
    return spec
  }

  /** Drops what `forDevice` remembers of a device: call when its profile changes. */
  forgetDevice(deviceId: string): void {
    this.#deviceRefs.delete(deviceId)
  }

  #own(principal: Principal, id: string): Profile {
    const row = this.#row(principal.tenantId, id)
    if (row === undefined) throw notFound('profile', id)
    return toProfile(row)
  }

  #row(tenantId: string, id: string): ProfileRow | undefined {
    return this.#db
      .prepare('SELECT * FROM profiles WHERE tenant_id = ? AND id = ?')
      .get(tenantId, id) as ProfileRow | undefined
  }

  #audited(principal: Principal, action: string, id: string, details: Record<string, unknown>) {
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action,
      target: `profile:${id}`,
      outcome: 'ok',
      details,
    })
  }
}

function specKey(tenantId: string, id: string): string {
  return `${tenantId}\0${id}`
}

function toProfile(r: ProfileRow): Profile {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    description: r.description,
    spec: JSON.parse(r.spec) as ProfileSpec,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}
