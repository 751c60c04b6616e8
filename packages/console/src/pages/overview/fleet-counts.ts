import type { ApiClient } from '../../api/api-client.js'
import type { FleetSummary } from '../../api/types.js'

/** The tenant's device counts by state and presence, one query on the node whatever the fleet size. */
export async function countFleet(api: ApiClient, signal: AbortSignal): Promise<FleetSummary> {
  return api.get<FleetSummary>('/api/v1/devices/summary', {}, signal)
}
