import type { StateDb } from '../db/state-db.js'
import { deviceStates, type DeviceState } from './device-lifecycle.js'
import type { PresenceStatus } from './presence.js'

/** How many devices a tenant has, by lifecycle state and by presence. */
export interface FleetSummary {
  readonly total: number
  readonly byState: Readonly<Record<DeviceState, number>>
  readonly byPresence: Readonly<Record<PresenceStatus, number>>
}

/**
 * Counts a tenant's devices with two GROUP BYs: the state one is answered from the
 * `(tenant_id, state, id)` index; presence joins the presence table, where a device with no row
 * never connected and counts as offline. Pending presence changes must be flushed first.
 */
export function countFleet(db: StateDb, tenantId: string): FleetSummary {
  const byState = Object.fromEntries(deviceStates.map((s) => [s, 0])) as Record<DeviceState, number>
  let total = 0
  const stateRows = db
    .prepare('SELECT state, COUNT(*) AS n FROM devices WHERE tenant_id = ? GROUP BY state')
    .all(tenantId) as { state: DeviceState; n: number }[]
  for (const r of stateRows) {
    byState[r.state] = r.n
    total += r.n
  }
  const byPresence: Record<PresenceStatus, number> = { online: 0, sleeping: 0, offline: 0 }
  const presenceRows = db
    .prepare(
      `SELECT p.status AS status, COUNT(*) AS n FROM devices d JOIN presence p ON p.device_id = d.id
       WHERE d.tenant_id = ? AND p.status != 'offline' GROUP BY p.status`,
    )
    .all(tenantId) as { status: PresenceStatus; n: number }[]
  let present = 0
  for (const r of presenceRows) {
    byPresence[r.status] = r.n
    present += r.n
  }
  byPresence.offline = total - present
  return { total, byState, byPresence }
}
