import type { StateDb } from '../db/state-db.js'
import type { Page } from '../http/cursor.js'
import {
  appendPresenceEvents,
  readPresenceHistory,
  type PresenceEvent,
} from './presence-history.js'

/**
 * Whether a device is there, as far as the node can tell:
 * - `online`: it holds a connection.
 * - `sleeping`: it said goodbye cleanly (MQTT DISCONNECT) and declared a sleep schedule
 *   (`sleepIntervalS`), and its wake-up deadline has not passed. What the cloud sends waits for it.
 * - `offline`: it never connected, its connection was lost (keep-alive timeout, socket error, a
 *   takeover, the server cut it), it left without a sleep schedule, or it missed its wake-up.
 * Each change records why and when; `lastSeenAt` is the last packet from the device.
 */
export type PresenceStatus = 'online' | 'sleeping' | 'offline'

export interface Presence {
  readonly deviceId: string
  readonly status: PresenceStatus
  readonly reason: string
  readonly since: number
  readonly lastSeenAt: number | null
  /** For a sleeping device: when it is overdue and becomes offline. */
  readonly wakeBy: number | null
}

export interface PresenceChange {
  readonly previous: Presence | undefined
  readonly current: Presence
}

/** Slack added to a declared sleep before a device counts as missing: 50 % plus this. */
export const wakeGraceMs = 30_000

interface Row {
  device_id: string
  status: PresenceStatus
  reason: string
  since: number
  last_seen_at: number | null
  wake_by: number | null
}

/** How long a presence change may wait in memory before it is written with its neighbours. */
const writeBehindMs = 500
/** Changes held for the next write before one is forced now (bounds memory under a storm). */
const maxPendingEvents = 50_000

/**
 * Drives the presence state machine from connection events and a timer for overdue sleepers.
 * Changes are written behind, many in one transaction every {@link writeBehindMs}: one SQLite
 * commit per connect cost ~3 ms of blocked event loop, which made a fleet of 1,000 devices
 * reconnecting at once wait seconds for CONNACKs. Presence is soft state — a restart marks every
 * device offline anyway — so a crash losing the last half second of it loses nothing that matters.
 */
export class PresenceTracker {
  readonly #db: StateDb
  readonly #clock: () => number
  readonly #onChange: (change: PresenceChange) => void
  readonly #timer: NodeJS.Timeout
  readonly #seen = new Map<string, number>()
  /** Rows changed since the last write, newest per device. */
  readonly #pending = new Map<string, Row>()
  /** Every change since the last write, in order: the connection history (issue 9). */
  #events: (PresenceEvent & { deviceId: string })[] = []
  #flushTimer: NodeJS.Timeout | undefined

  constructor(deps: {
    db: StateDb
    clock: () => number
    onChange?: (change: PresenceChange) => void
    sweepMs?: number
  }) {
    this.#db = deps.db
    this.#clock = deps.clock
    this.#onChange = deps.onChange ?? (() => undefined)
    this.#timer = setInterval(() => {
      this.sweep()
    }, deps.sweepMs ?? 5_000)
    this.#timer.unref()
    // A restart lost every connection: whoever was online is offline until it reconnects.
    for (const row of this.#db
      .prepare("SELECT * FROM presence WHERE status = 'online'")
      .all() as Row[]) {
      this.#set(row.device_id, 'offline', 'the node restarted', null)
    }
  }

  get(deviceId: string): Presence {
    const row = this.#row(deviceId)
    return row === undefined
      ? {
          deviceId,
          status: 'offline',
          reason: 'never connected',
          since: 0,
          lastSeenAt: null,
          wakeBy: null,
        }
      : toPresence(row, this.#seen.get(deviceId))
  }

  connected(deviceId: string): void {
    this.#seen.set(deviceId, this.#clock())
    this.#set(deviceId, 'online', 'connected', null)
  }

  /**
   * The connection ended. `reason` is the broker's; a clean DISCONNECT with a declared sleep makes
   * the device sleep until `now + 1.5 × sleep + grace`.
   */
  disconnected(deviceId: string, reason: string, sleepIntervalS: number | undefined): void {
    const now = this.#clock()
    this.#seen.set(deviceId, now)
    const clean = /^DISCONNECT (0|4) from the client$/.test(reason)
    if (clean && sleepIntervalS !== undefined && sleepIntervalS > 0) {
      const wakeBy = now + Math.round(sleepIntervalS * 1500) + wakeGraceMs
      this.#set(deviceId, 'sleeping', `disconnected to sleep ${String(sleepIntervalS)} s`, wakeBy)
    } else {
      this.#set(deviceId, 'offline', clean ? 'disconnected' : reason, null)
    }
  }

  /** A packet arrived from the device (kept in memory; written with the next state change). */
  seen(deviceId: string): void {
    this.#seen.set(deviceId, this.#clock())
  }

  /** Sleepers past their deadline become offline. */
  sweep(): void {
    this.flush()
    const now = this.#clock()
    const overdue = this.#db
      .prepare("SELECT * FROM presence WHERE status = 'sleeping' AND wake_by <= ?")
      .all(now) as Row[]
    for (const row of overdue) this.#set(row.device_id, 'offline', 'missed its wake-up', null)
  }

  /** Writes the pending changes now, in one transaction. */
  flush(): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#pending.size === 0 && this.#events.length === 0) return
    const rows = [...this.#pending.values()]
    this.#pending.clear()
    const events = this.#events
    this.#events = []
    const upsert = this.#db.prepare(
      `INSERT INTO presence (device_id, status, reason, since, last_seen_at, wake_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
         since = excluded.since, last_seen_at = excluded.last_seen_at, wake_by = excluded.wake_by`,
    )
    this.#db.transaction(() => {
      for (const r of rows)
        upsert.run(r.device_id, r.status, r.reason, r.since, r.last_seen_at, r.wake_by)
      appendPresenceEvents(this.#db, events, this.#clock())
    })()
  }

  /** A device's presence changes, newest first (pending ones are written first). */
  history(deviceId: string, q: { limit: number; cursor?: string }): Page<PresenceEvent> {
    this.flush()
    return readPresenceHistory(this.#db, deviceId, q)
  }

  close(): void {
    clearInterval(this.#timer)
    this.flush()
  }

  #set(deviceId: string, status: PresenceStatus, reason: string, wakeBy: number | null): void {
    const previousRow = this.#row(deviceId)
    const previous = previousRow === undefined ? undefined : toPresence(previousRow, undefined)
    const now = this.#clock()
    const lastSeen = this.#seen.get(deviceId) ?? previousRow?.last_seen_at ?? null
    this.#pending.set(deviceId, {
      device_id: deviceId,
      status,
      reason,
      since: now,
      last_seen_at: lastSeen,
      wake_by: wakeBy,
    })
    this.#events.push({ deviceId, status, reason, at: now })
    if (this.#events.length >= maxPendingEvents) this.flush()
    this.#flushTimer ??= setTimeout(() => {
      this.flush()
    }, writeBehindMs).unref()
    this.#onChange({
      previous,
      current: { deviceId, status, reason, since: now, lastSeenAt: lastSeen, wakeBy },
    })
  }

  #row(deviceId: string): Row | undefined {
    const pending = this.#pending.get(deviceId)
    if (pending !== undefined) return pending
    return this.#db.prepare('SELECT * FROM presence WHERE device_id = ?').get(deviceId) as
      Row | undefined
  }
}

function toPresence(row: Row, seen: number | undefined): Presence {
  return {
    deviceId: row.device_id,
    status: row.status,
    reason: row.reason,
    since: row.since,
    lastSeenAt: Math.max(seen ?? 0, row.last_seen_at ?? 0) || null,
    wakeBy: row.wake_by,
  }
}
