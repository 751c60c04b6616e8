import type { OpenAlarmKey } from './alarm-store.js'

/**
 * The open alarms of every tenant, in memory: the rule engine asks `has` on every message that a
 * rule with auto-clear selects, so it must never touch the database. Loaded from the store at
 * start and kept in step by `Alarms` after each committed change.
 */
export class OpenAlarmIndex {
  /** tenant → device → type → alarm id. */
  readonly #tenants = new Map<string, Map<string, Map<string, string>>>()
  readonly #counts = new Map<string, number>()

  constructor(keys: Iterable<OpenAlarmKey> = []) {
    for (const k of keys) this.add(k)
  }

  /** True when the device has an open alarm of this type. */
  has(tenantId: string, deviceId: string, type: string): boolean {
    return this.#tenants.get(tenantId)?.get(deviceId)?.has(type) === true
  }

  /** The id of the device's open alarm of this type. */
  idOf(tenantId: string, deviceId: string, type: string): string | undefined {
    return this.#tenants.get(tenantId)?.get(deviceId)?.get(type)
  }

  /** How many open alarms a tenant has. */
  count(tenantId: string): number {
    return this.#counts.get(tenantId) ?? 0
  }

  add(k: OpenAlarmKey): void {
    let devices = this.#tenants.get(k.tenantId)
    if (devices === undefined) {
      devices = new Map()
      this.#tenants.set(k.tenantId, devices)
    }
    let types = devices.get(k.deviceId)
    if (types === undefined) {
      types = new Map()
      devices.set(k.deviceId, types)
    }
    if (!types.has(k.type)) this.#counts.set(k.tenantId, this.count(k.tenantId) + 1)
    types.set(k.type, k.id)
  }

  remove(k: Omit<OpenAlarmKey, 'id'>): void {
    const devices = this.#tenants.get(k.tenantId)
    const types = devices?.get(k.deviceId)
    if (devices === undefined || types?.delete(k.type) !== true) return
    this.#counts.set(k.tenantId, this.count(k.tenantId) - 1)
    if (types.size === 0) devices.delete(k.deviceId)
    if (devices.size === 0) {
      this.#tenants.delete(k.tenantId)
      this.#counts.delete(k.tenantId)
    }
  }
}
