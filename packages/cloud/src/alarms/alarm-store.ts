import type { JsonObject } from '@strata/protocol'
import type { StateDb } from '../db/state-db.js'
import type {
  Alarm,
  AlarmComment,
  AlarmEventKind,
  AlarmHistoryEntry,
  AlarmQuery,
  AlarmSeverity,
  AlarmStatus,
} from './alarm-types.js'
import { likeFilter } from '../db/like-filter.js'

interface AlarmRow {
  seq: number
  id: string
  tenant_id: string
  device_id: string
  type: string
  severity: AlarmSeverity
  status: AlarmStatus
  message: string | null
  details: string | null
  source_rule: string | null
  source_rule_version: number | null
  source_user: string | null
  raised_at: number
  last_raised_at: number
  count: number
  acknowledged_at: number | null
  acknowledged_by: string | null
  cleared_at: number | null
  cleared_by: string | null
  comments: number
}

interface EventRow {
  seq: number
  alarm_id: string
  kind: AlarmEventKind
  at: number
  by: string
  details: string
}

/** What a new alarm row holds. */
export interface NewAlarmRow {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  readonly type: string
  readonly severity: AlarmSeverity
  readonly message: string | null
  readonly details: JsonObject | null
  readonly sourceRule: string | null
  readonly sourceRuleVersion: number | null
  readonly sourceUser: string | null
  readonly at: number
}

/** The key a list page ended at: newest first by raise time, then by row. */
export interface AlarmPageKey {
  readonly raisedAt: number
  readonly seq: number
}

/** An open alarm's key, for the in-memory index. */
export interface OpenAlarmKey {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  readonly type: string
}

/** Alarms, their history and comments in the state database; the caller checks tenants. */
export class AlarmStore {
  readonly #db: StateDb

  constructor(db: StateDb) {
    this.#db = db
  }

  /**
   * Removes up to `limit` alarms cleared before `before`, with their history and comments, in
   * one transaction; returns how many per tenant. Open alarms are never touched.
   */
  deleteClearedBefore(before: number, limit: number): Map<string, number> {
    return this.#db.transaction(() => {
      const rows = this.#db
        .prepare(
          `SELECT id, tenant_id FROM alarms
           WHERE status = 'cleared' AND cleared_at < ? ORDER BY cleared_at LIMIT ?`,
        )
        .all(before, limit) as { id: string; tenant_id: string }[]
      const perTenant = new Map<string, number>()
      const events = this.#db.prepare('DELETE FROM alarm_events WHERE alarm_id = ?')
      const comments = this.#db.prepare('DELETE FROM alarm_comments WHERE alarm_id = ?')
      const alarm = this.#db.prepare('DELETE FROM alarms WHERE id = ?')
      for (const row of rows) {
        events.run(row.id)
        comments.run(row.id)
        alarm.run(row.id)
        perTenant.set(row.tenant_id, (perTenant.get(row.tenant_id) ?? 0) + 1)
      }
      return perTenant
    })()
  }

  insert(a: NewAlarmRow): void {
    this.#db
      .prepare(
        `INSERT INTO alarms (id, tenant_id, device_id, type, severity, status, message, details,
           source_rule, source_rule_version, source_user, raised_at, last_raised_at)
         VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.id,
        a.tenantId,
        a.deviceId,
        a.type,
        a.severity,
        a.message,
        a.details === null ? null : JSON.stringify(a.details),
        a.sourceRule,
        a.sourceRuleVersion,
        a.sourceUser,
        a.at,
        a.at,
      )
  }

  get(id: string): Alarm | undefined {
    const row = this.#db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) as
      AlarmRow | undefined
    return row === undefined ? undefined : toAlarm(row)
  }

  /** The open (active or acknowledged) alarm of a device and type. */
  open(tenantId: string, deviceId: string, type: string): Alarm | undefined {
    const row = this.#db
      .prepare(
        `SELECT * FROM alarms WHERE tenant_id = ? AND device_id = ? AND type = ? AND status != 'cleared'`,
      )
      .get(tenantId, deviceId, type) as AlarmRow | undefined
    return row === undefined ? undefined : toAlarm(row)
  }

  /** Every open alarm's key (loaded once into the in-memory index). */
  openKeys(): OpenAlarmKey[] {
    const rows = this.#db
      .prepare(`SELECT id, tenant_id, device_id, type FROM alarms WHERE status != 'cleared'`)
      .all() as { id: string; tenant_id: string; device_id: string; type: string }[]
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      deviceId: r.device_id,
      type: r.type,
    }))
  }

  /** A repeat raise of an open alarm: count, last raise, severity and message (when given). */
  reRaise(
    id: string,
    severity: AlarmSeverity,
    message: string | null,
    details: JsonObject | null,
    at: number,
  ): void {
    this.#db
      .prepare(
        `UPDATE alarms SET count = count + 1, last_raised_at = MAX(last_raised_at, ?), severity = ?,
           message = COALESCE(?, message), details = COALESCE(?, details) WHERE id = ?`,
      )
      .run(at, severity, message, details === null ? null : JSON.stringify(details), id)
  }

  /** Writes what a run of repeat raises held in memory: the alarm's counters and the run's entry. */
  saveRepeat(alarm: Alarm, event: AlarmHistoryEntry): void {
    this.#db
      .prepare(
        `UPDATE alarms SET count = ?, last_raised_at = ?, message = ?, details = ?
         WHERE id = ? AND status != 'cleared'`,
      )
      .run(
        alarm.count,
        alarm.lastRaisedAt,
        alarm.message,
        alarm.details === null ? null : JSON.stringify(alarm.details),
        alarm.id,
      )
    this.updateEvent(event.seq, event.at, event.by, event.details)
  }

  acknowledge(id: string, at: number, by: string): void {
    this.#db
      .prepare(
        `UPDATE alarms SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`,
      )
      .run(at, by, id)
  }

  clear(id: string, at: number, by: string): void {
    this.#db
      .prepare(`UPDATE alarms SET status = 'cleared', cleared_at = ?, cleared_by = ? WHERE id = ?`)
      .run(at, by, id)
  }

  /** Appends a history entry; returns it. */
  addEvent(
    tenantId: string,
    alarmId: string,
    kind: AlarmEventKind,
    at: number,
    by: string,
    details: JsonObject,
  ): AlarmHistoryEntry {
    const seq = this.#db
      .prepare(
        'INSERT INTO alarm_events (alarm_id, tenant_id, kind, at, by, details) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(alarmId, tenantId, kind, at, by, JSON.stringify(details)).lastInsertRowid
    return { seq: Number(seq), alarmId, kind, at, by, details }
  }

  /** The newest history entry of an alarm. */
  lastEvent(alarmId: string): AlarmHistoryEntry | undefined {
    const row = this.#db
      .prepare('SELECT * FROM alarm_events WHERE alarm_id = ? ORDER BY seq DESC LIMIT 1')
      .get(alarmId) as EventRow | undefined
    return row === undefined ? undefined : toEntry(row)
  }

  /** Rewrites a history entry in place (a run of repeat raises is one entry). */
  updateEvent(seq: number, at: number, by: string, details: JsonObject): void {
    this.#db
      .prepare('UPDATE alarm_events SET at = ?, by = ?, details = ? WHERE seq = ?')
      .run(at, by, JSON.stringify(details), seq)
  }

  /** An alarm's history, newest first, before the entry `before`. */
  history(alarmId: string, before: number | undefined, limit: number): AlarmHistoryEntry[] {
    const rows = this.#db
      .prepare(
        'SELECT * FROM alarm_events WHERE alarm_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      )
      .all(alarmId, before ?? Number.MAX_SAFE_INTEGER, limit) as EventRow[]
    return rows.map(toEntry)
  }

  /** Adds a comment and counts it on the alarm; returns its id. */
  addComment(tenantId: string, alarmId: string, at: number, by: string, text: string): number {
    const id = this.#db
      .prepare(
        'INSERT INTO alarm_comments (alarm_id, tenant_id, at, by, text) VALUES (?, ?, ?, ?, ?)',
      )
      .run(alarmId, tenantId, at, by, text).lastInsertRowid
    this.#db.prepare('UPDATE alarms SET comments = comments + 1 WHERE id = ?').run(alarmId)
    return Number(id)
  }

  /** An alarm's comments, oldest first. */
  comments(alarmId: string): AlarmComment[] {
    const rows = this.#db
      .prepare(
        'SELECT seq, alarm_id, at, by, text FROM alarm_comments WHERE alarm_id = ? ORDER BY seq',
      )
      .all(alarmId) as { seq: number; alarm_id: string; at: number; by: string; text: string }[]
    return rows.map((r) => ({ id: r.seq, alarmId: r.alarm_id, at: r.at, by: r.by, text: r.text }))
  }

  /** A tenant's alarms matching the query, newest first, after `after`; with their page keys. */
  list(
    tenantId: string,
    q: Omit<AlarmQuery, 'limit' | 'cursor'>,
    after: AlarmPageKey | undefined,
    limit: number,
  ): { key: AlarmPageKey; alarm: Alarm }[] {
    const where = ['tenant_id = ?']
    const args: unknown[] = [tenantId]
    if (q.status === 'open') where.push(`status != 'cleared'`)
    else if (q.status !== undefined) {
      where.push('status = ?')
      args.push(q.status)
    }
    if (q.severity !== undefined && q.severity.length > 0) {
      where.push(`severity IN (${q.severity.map(() => '?').join(', ')})`)
      args.push(...q.severity)
    }
    if (q.deviceId !== undefined && q.deviceId.length > 0) {
      where.push(`device_id IN (${q.deviceId.map(() => '?').join(', ')})`)
      args.push(...q.deviceId)
    }
    for (const [column, value] of [
      ['type', q.type],
      ['source_rule', q.rule],
    ] as const) {
      if (value === undefined) continue
      where.push(`${column} = ?`)
      args.push(value)
    }
    if (q.from !== undefined) {
      where.push('raised_at >= ?')
      args.push(q.from)
    }
    if (q.to !== undefined) {
      where.push('raised_at < ?')
      args.push(q.to)
    }
    if (q.q !== undefined && q.q !== '') {
      const text = likeFilter(['type', 'message', 'device_id'], q.q, 'contains')
      where.push(text.sql)
      args.push(...text.args)
    }
    if (after !== undefined) {
      where.push('(raised_at, seq) < (?, ?)')
      args.push(after.raisedAt, after.seq)
    }
    const rows = this.#db
      .prepare(
        `SELECT * FROM alarms WHERE ${where.join(' AND ')} ORDER BY raised_at DESC, seq DESC LIMIT ?`,
      )
      .all(...args, limit) as AlarmRow[]
    return rows.map((r) => ({ key: { raisedAt: r.raised_at, seq: r.seq }, alarm: toAlarm(r) }))
  }

  /** A tenant's open alarms counted by status and severity. */
  openCounts(tenantId: string): { status: AlarmStatus; severity: AlarmSeverity; n: number }[] {
    return this.#db
      .prepare(
        `SELECT status, severity, COUNT(*) AS n FROM alarms WHERE tenant_id = ? AND status != 'cleared'
         GROUP BY status, severity`,
      )
      .all(tenantId) as { status: AlarmStatus; severity: AlarmSeverity; n: number }[]
  }
}

function toAlarm(r: AlarmRow): Alarm {
  const source =
    r.source_user !== null
      ? { user: r.source_user }
      : {
          ...(r.source_rule === null ? {} : { rule: r.source_rule }),
          ...(r.source_rule_version === null ? {} : { ruleVersion: r.source_rule_version }),
        }
  return {
    id: r.id,
    tenantId: r.tenant_id,
    deviceId: r.device_id,
    type: r.type,
    severity: r.severity,
    status: r.status,
    message: r.message,
    details: r.details === null ? null : (JSON.parse(r.details) as JsonObject),
    source,
    raisedAt: r.raised_at,
    lastRaisedAt: r.last_raised_at,
    count: r.count,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    clearedAt: r.cleared_at,
    clearedBy: r.cleared_by,
    comments: r.comments,
  }
}

function toEntry(r: EventRow): AlarmHistoryEntry {
  return {
    seq: r.seq,
    alarmId: r.alarm_id,
    kind: r.kind,
    at: r.at,
    by: r.by,
    details: JSON.parse(r.details) as JsonObject,
  }
}
