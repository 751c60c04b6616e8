import type { StateDb } from '../db/state-db.js'
import { decodeCursor, pageOf, type Page } from '../http/cursor.js'
import { CloudError } from '../errors.js'
import type { PresenceStatus } from './presence.js'

/** One change of a device's presence: what it became, why, and when. */
export interface PresenceEvent {
  readonly status: PresenceStatus
  readonly reason: string
  readonly at: number
}

/** How much history a device keeps: its last {@link maxEventsPerDevice} changes, none older than this. */
export const presenceHistoryMaxAgeMs = 30 * 24 * 3600 * 1000
export const maxEventsPerDevice = 1000

/**
 * Appends presence changes and prunes the history of the devices they touch, inside the
 * caller's transaction (the presence tracker's write-behind flush, after it wrote the devices'
 * presence rows), so history costs no commit of its own. `presence.history_count` keeps each
 * device's count, so pruning to the newest 1,000 deletes just the surplus from the oldest end
 * instead of walking 1,000 index entries per device (80 ms a flush of 1,000 flapping devices).
 */
export function appendPresenceEvents(
  db: StateDb,
  events: readonly (PresenceEvent & { deviceId: string })[],
  now: number,
): void {
  if (events.length === 0) return
  const insert = db.prepare(
    'INSERT INTO presence_events (device_id, status, reason, at) VALUES (?, ?, ?, ?)',
  )
  const addCount = db
    .prepare(
      'UPDATE presence SET history_count = history_count + ? WHERE device_id = ? RETURNING history_count',
    )
    .pluck()
  const setCount = db.prepare('UPDATE presence SET history_count = ? WHERE device_id = ?')
  // Over 30 days old: rows come in time order, so everything before the first fresh one goes
  // (usually the oldest is fresh, and this reads one index entry).
  const pruneAge = db.prepare(
    `DELETE FROM presence_events WHERE device_id = ? AND seq < (SELECT seq FROM presence_events
       WHERE device_id = ? AND at >= ? ORDER BY seq LIMIT 1)`,
  )
  const pruneOldest = db.prepare(
    `DELETE FROM presence_events WHERE seq IN (SELECT seq FROM presence_events WHERE device_id = ?
       ORDER BY seq LIMIT ?)`,
  )
  const added = new Map<string, number>()
  for (const e of events) {
    insert.run(e.deviceId, e.status, e.reason, e.at)
    added.set(e.deviceId, (added.get(e.deviceId) ?? 0) + 1)
  }
  for (const [deviceId, n] of added) {
    const counted = addCount.get(n, deviceId) as number | undefined
    let count = counted ?? 0
    count -= pruneAge.run(deviceId, deviceId, now - presenceHistoryMaxAgeMs).changes
    if (count > maxEventsPerDevice)
      count -= pruneOldest.run(deviceId, count - maxEventsPerDevice).changes
    if (count !== counted) setCount.run(count, deviceId)
  }
}

/** One page of a device's presence history, newest first. */
export function readPresenceHistory(
  db: StateDb,
  deviceId: string,
  q: { limit: number; cursor?: string | undefined },
): Page<PresenceEvent> {
  const before = q.cursor === undefined ? undefined : Number(decodeCursor(q.cursor))
  if (before !== undefined && !Number.isSafeInteger(before)) {
    throw new CloudError('CLOUD_INVALID', 'the cursor is not one this API returned', {
      hint: 'Pass nextCursor from the previous page unchanged.',
      details: { field: 'cursor' },
    })
  }
  const rows = db
    .prepare(
      `SELECT seq, status, reason, at FROM presence_events WHERE device_id = ? AND seq < ?
       ORDER BY seq DESC LIMIT ?`,
    )
    .all(deviceId, before ?? Number.MAX_SAFE_INTEGER, q.limit + 1) as (PresenceEvent & {
    seq: number
  })[]
  const page = pageOf(rows, q.limit, (e) => String(e.seq))
  return {
    items: page.items.map(({ status, reason, at }) => ({ status, reason, at })),
    nextCursor: page.nextCursor,
  }
}
