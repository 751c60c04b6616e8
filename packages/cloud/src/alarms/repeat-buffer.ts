import type { JsonObject } from '@strata/protocol'
import type { Logger } from 'pino'
import type { StateDb } from '../db/state-db.js'
import type { AlarmStore } from './alarm-store.js'
import type { Alarm, AlarmChange, AlarmHistoryEntry } from './alarm-types.js'

/** An open alarm being raised again and again at one severity, as it is in memory. */
export interface PendingRepeat {
  alarm: Alarm
  /** The `re-raised` entry of the run, as it is in memory. */
  event: AlarmHistoryEntry
  /** Repeats since it was last written; 0 means the database holds what memory holds. */
  unsaved: number
}

/**
 * Repeat raises held in memory between writes. A rule that matches every message raises its open
 * alarm on every message; writing each repeat would cost a transaction (an fsync) per message on
 * the ingest path. A repeat of an alarm the buffer tracks updates it here and is written with
 * the next flush (a timer, any other change, any read), so repeats cost one transaction per flush
 * for all alarms. A crash loses at most one flush period of counts, never an alarm or a change of
 * status or severity. Entries without repeats for a whole flush period are dropped.
 */
export class RepeatBuffer {
  readonly #pending = new Map<string, PendingRepeat>()
  readonly #db: StateDb
  readonly #store: AlarmStore
  readonly #flushMs: number
  readonly #log: Logger | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(deps: { db: StateDb; store: AlarmStore; flushMs: number; log?: Logger | undefined }) {
    this.#db = deps.db
    this.#store = deps.store
    this.#flushMs = deps.flushMs
    this.#log = deps.log
  }

  /** The tracked run of an open alarm. */
  get(alarmId: string): PendingRepeat | undefined {
    return this.#pending.get(alarmId)
  }

  /** Starts tracking an alarm whose repeat was just written, with its run's history entry. */
  track(alarm: Alarm, event: AlarmHistoryEntry): void {
    this.#pending.set(alarm.id, { alarm, event, unsaved: 0 })
    this.#schedule()
  }

  /** Stops tracking an alarm (about to change otherwise); flush it first. */
  forget(alarmId: string): void {
    this.#pending.delete(alarmId)
  }

  /** One more repeat in memory; returns the change to tell listeners. */
  add(
    p: PendingRepeat,
    at: number,
    by: string,
    message: string | null,
    details: JsonObject | null,
  ): AlarmChange {
    const count = p.alarm.count + 1
    p.alarm = {
      ...p.alarm,
      count,
      lastRaisedAt: Math.max(p.alarm.lastRaisedAt, at),
      ...(message === null ? {} : { message }),
      ...(details === null ? {} : { details }),
    }
    const repeats = typeof p.event.details['repeats'] === 'number' ? p.event.details['repeats'] : 0
    p.event = {
      ...p.event,
      at: Math.max(p.event.at, at),
      by,
      details: {
        ...p.event.details,
        count,
        repeats: repeats + 1,
        ...(message === null ? {} : { message }),
      },
    }
    p.unsaved++
    this.#schedule()
    return { alarm: p.alarm, event: p.event }
  }

  /**
   * Runs `f` in a transaction that first writes the repeats held in memory; they count as
   * written once it commits. Every change to alarms goes through here.
   */
  transact<T>(f: () => T): T {
    const unsaved = this.#unsaved(false)
    const result = this.#db.transaction(() => {
      for (const p of unsaved) this.#store.saveRepeat(p.alarm, p.event)
      return f()
    })()
    for (const p of unsaved) p.unsaved = 0
    return result
  }

  /** Writes the repeats held in memory, if any (before a read). */
  flush(): void {
    if (this.#unsaved(false).length > 0) this.transact(() => undefined)
  }

  /** Writes what is held and stops the timer. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#tick()
  }

  /** The timer's flush: writes repeats, drops runs that went quiet, stops when none is left. */
  #tick(): void {
    try {
      if (this.#unsaved(true).length > 0) this.transact(() => undefined)
    } catch (err) {
      // Kept in memory and tried again on the next tick or change.
      this.#log?.error({ err }, 'alarm repeats not written')
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = setInterval(() => this.#tick(), this.#flushMs)
    this.#timer.unref()
  }

  /**
   * The runs to write (those with unsaved repeats). With `dropIdle`, entries that had no repeat
   * since the previous flush are dropped (a timer flush); the others stay tracked.
   */
  #unsaved(dropIdle: boolean): PendingRepeat[] {
    const out: PendingRepeat[] = []
    for (const [id, p] of this.#pending) {
      if (p.unsaved > 0) out.push(p)
      else if (dropIdle) this.#pending.delete(id)
    }
    return out
  }
}
