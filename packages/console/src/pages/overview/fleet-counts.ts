import type { ApiClient } from '../../api/api-client.js'
import type { Device, Page } from '../../api/types.js'

export interface FleetCounts {
  readonly total: number
  readonly online: number
  /** More devices than were counted (the count stopped at the cap). */
  readonly capped: boolean
}

/**
 * Counts devices and how many are online by paging the device list, at most `cap` devices
 * (the API has no count endpoint yet); a bigger fleet shows as "5,000+".
 */
export async function countFleet(
  api: ApiClient,
  signal: AbortSignal,
  cap = 5000,
): Promise<FleetCounts> {
  let total = 0
  let online = 0
  let cursor: string | undefined
  for (;;) {
    const page = await api.get<Page<Device>>('/api/v1/devices', { limit: 1000, cursor }, signal)
    total += page.items.length
    online += page.items.filter((d) => d.presence.status === 'online').length
    if (page.nextCursor === null) return { total, online, capped: false }
    if (total >= cap) return { total, online, capped: true }
    cursor = page.nextCursor
  }
}
