import type { JsonObject } from '@strata/protocol'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { pageOf, seqCursor, type Page } from '../http/cursor.js'
import type { Device } from '../registry/device-registry.js'
import {
  byOf,
  checkComment,
  checkDetails,
  checkSeverity,
  checkType,
  cutMessage,
  pageKeyOf,
  stateError,
} from './alarm-input.js'
import { AlarmStore } from './alarm-store.js'
import {
  alarmSeverities,
  defaultAlarmOptions,
  type Alarm,
  type AlarmChange,
  type AlarmChangeListener,
  type AlarmClear,
  type AlarmComment,
  type AlarmHistoryEntry,
  type AlarmOptions,
  type AlarmQuery,
  type AlarmRaise,
  type AlarmSeverity,
  type AlarmSummary,
} from './alarm-types.js'
import { OpenAlarmIndex } from './open-alarm-index.js'
import { RepeatBuffer } from './repeat-buffer.js'

/** What an operator raises by hand (`POST /api/v1/alarms`). */
export interface ManualAlarm {
  readonly deviceId: string
  readonly type: string
  readonly severity: AlarmSeverity
  readonly message?: string
  readonly details?: JsonObject
}

/** Cleared alarms removed per transaction by the retention sweep. */
const purgeBatch = 1000

/**
 * Alarms of devices, deduplicated per tenant, device and type: at most one open (active or
 * acknowledged) alarm per key, which a repeat raise updates (count, last raise, severity,
 * message) without undoing an acknowledgement; a raise after a clear opens a new one. Rules raise
 * and clear (`raise`, `clear`, and `isOpen` from memory on every message); users read, raise by
 * hand, acknowledge, clear and comment (permissions `alarms:read` / `alarms:manage`, audited).
 * Every change is kept as history and told to `onChange` listeners after it commits. Repeat
 * raises at the same severity are held in memory and written once per `repeatFlushMs` (see
 * `RepeatBuffer`); `close()` writes what is left.
 *
 * @example
 * const alarms = new Alarms({ db, audit, clock: Date.now, lookup: (id) => registry.lookup(id) })
 * alarms.onChange(({ alarm, event }) => hub.publishAlarm({ alarm, event }))
 * alarms.raise({ tenantId: 't', deviceId: 'pump-7', type: 'overheat', severity: 'critical',
 *   source: { rule: 'overheat', ruleVersion: 3 }, at: Date.now() })
 * alarms.isOpen('t', 'pump-7', 'overheat') // true
 */
export class Alarms {
  readonly store: AlarmStore
  readonly options: AlarmOptions
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #lookup: (deviceId: string) => Device | undefined
  readonly #index: OpenAlarmIndex
  readonly #listeners: AlarmChangeListener[] = []
  readonly #repeats: RepeatBuffer
  readonly #log: Logger | undefined
  #purgeTimer: NodeJS.Timeout | undefined
  #purgeSoon: NodeJS.Immediate | undefined

  constructor(
    deps: {
      db: StateDb
      audit: AuditLog
      clock: () => number
      lookup: (deviceId: string) => Device | undefined
      log?: Logger
    },
    options: Partial<AlarmOptions> = {},
  ) {
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#lookup = deps.lookup
    this.options = { ...defaultAlarmOptions, ...options }
    this.store = new AlarmStore(deps.db)
    this.#index = new OpenAlarmIndex(this.store.openKeys())
    this.#repeats = new RepeatBuffer({
      db: deps.db,
      store: this.store,
      flushMs: this.options.repeatFlushMs,
      log: deps.log,
    })
    this.#log = deps.log
    if (Number.isFinite(this.options.keepClearedMs)) {
      const purge = () => {
        this.purgeCleared().catch((err: unknown) => {
          this.#log?.error({ err }, 'removing old cleared alarms failed')
        })
      }
      this.#purgeTimer = setInterval(purge, this.options.purgeIntervalMs)
      this.#purgeTimer.unref()
      this.#purgeSoon = setImmediate(purge)
    }
  }

  /**
   * Removes the alarms cleared longer than `keepClearedMs` ago, with their history and comments,
   * a thousand per transaction; one audit entry per tenant says how many. Returns the count.
   */
  async purgeCleared(): Promise<number> {
    const before = this.#clock() - this.options.keepClearedMs
    const perTenant = new Map<string, number>()
    for (;;) {
      const batch = this.store.deleteClearedBefore(before, purgeBatch)
      let removed = 0
      for (const [tenantId, n] of batch) {
        perTenant.set(tenantId, (perTenant.get(tenantId) ?? 0) + n)
        removed += n
      }
      if (removed < purgeBatch) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    let total = 0
    for (const [tenantId, count] of perTenant) {
      total += count
      this.#audit.append({
        tenantId,
        actor: 'node',
        action: 'alarm.purge',
        target: 'alarms',
        outcome: 'ok',
        details: { count, clearedBefore: before },
      })
    }
    if (total > 0)
      this.#log?.info({ removed: total, clearedBefore: before }, 'removed old cleared alarms')
    return total
  }

  /** Registers a listener told of every change (raise, repeat, escalation, ack, clear, comment). */
  onChange(listener: AlarmChangeListener): void {
    this.#listeners.push(listener)
  }

  /** True when the device has an open alarm of this type; from memory, never the database. */
  isOpen(tenantId: string, deviceId: string, type: string): boolean {
    return this.#index.has(tenantId, deviceId, type)
  }

  /**
   * Raises an alarm: opens a new one (`created: true`) unless the device has an open alarm of
   * this type, which it updates instead. `CLOUD_NOT_FOUND` for a device not in the tenant,
   * `CLOUD_INVALID` for a bad type, severity or details, `CLOUD_CONFLICT` past the tenant's
   * limit of open alarms.
   */
  raise(input: AlarmRaise): { alarm: Alarm; created: boolean } {
    const o = this.options
    const type = checkType(input.type, o)
    const severity = checkSeverity(input.severity)
    const message = cutMessage(input.message, o)
    const details = checkDetails(input.details, o)
    const { tenantId, deviceId, at } = input
    const by = byOf(input.source)
    const openId = this.#index.idOf(tenantId, deviceId, type)
    const tracked = openId === undefined ? undefined : this.#repeats.get(openId)
    if (tracked !== undefined && tracked.alarm.severity === severity) {
      const change = this.#repeats.add(tracked, at, by, message, details)
      this.#emit(change)
      return { alarm: change.alarm, created: false }
    }
    if (this.#lookup(deviceId)?.tenantId !== tenantId) throw notFound('device', deviceId)
    const result = this.#repeats.transact(() => {
      const open = this.store.open(tenantId, deviceId, type)
      if (open === undefined) {
        if (this.#index.count(tenantId) >= o.maxOpenPerTenant) {
          throw new CloudError(
            'CLOUD_CONFLICT',
            `tenant ${tenantId} has ${String(o.maxOpenPerTenant)} open alarms`,
            { hint: 'Clear alarms that are dealt with; check rules that raise without clearing.' },
          )
        }
        const id = `a-${randomBytes(12).toString('base64url')}`
        const source = input.source
        this.store.insert({
          id,
          tenantId,
          deviceId,
          type,
          severity,
          message,
          details,
          sourceRule: 'rule' in source ? (source.rule ?? null) : null,
          sourceRuleVersion: 'ruleVersion' in source ? (source.ruleVersion ?? null) : null,
          sourceUser: 'user' in source ? source.user : null,
          at,
        })
        const event = this.store.addEvent(tenantId, id, 'raised', at, by, {
          severity,
          ...(message === null ? {} : { message }),
        })
        return { alarm: this.store.get(id) as Alarm, event, created: true }
      }
      this.store.reRaise(open.id, severity, message, details, at)
      const count = open.count + 1
      const event =
        severity === open.severity
          ? this.#recordRepeat(open, at, by, count, message)
          : this.store.addEvent(tenantId, open.id, 'escalated', at, by, {
              from: open.severity,
              to: severity,
              count,
            })
      return { alarm: this.store.get(open.id) as Alarm, event, created: false }
    })
    if (result.created) this.#index.add(result.alarm)
    else if (result.event.kind === 're-raised') this.#repeats.track(result.alarm, result.event)
    else this.#repeats.forget(result.alarm.id)
    this.#emit(result)
    return { alarm: result.alarm, created: result.created }
  }

  /** Clears the open alarm of a device and type (a rule's auto-clear); undefined when none is open. */
  clear(input: AlarmClear): Alarm | undefined {
    const result = this.#repeats.transact(() => {
      const open = this.store.open(input.tenantId, input.deviceId, input.type)
      if (open === undefined) return undefined
      return this.#clear(open, input.at, input.by, undefined)
    })
    if (result === undefined) {
      // Nothing open in the database: the index must agree.
      this.#index.remove(input)
      return undefined
    }
    this.#forget(result.alarm)
    this.#emit(result)
    return result.alarm
  }

  /** Raises an alarm by hand (`alarms:manage`, audited); source `user:<id>` or `token:<id>`. */
  raiseByUser(principal: Principal, input: ManualAlarm): { alarm: Alarm; created: boolean } {
    requirePermission(principal, 'alarms:manage')
    const result = this.raise({
      ...input,
      tenantId: principal.tenantId,
      source: { user: principal.actor },
      at: this.#clock(),
    })
    this.#auditAction(principal, 'alarm.raise', result.alarm, { created: result.created })
    return result
  }

  /** One alarm of the caller's tenant. */
  get(principal: Principal, id: string): Alarm {
    requirePermission(principal, 'alarms:read')
    this.#repeats.flush()
    return this.#own(principal, id)
  }

  /** One page of the tenant's alarms matching the query, newest first. */
  list(principal: Principal, query: AlarmQuery): Page<Alarm> {
    requirePermission(principal, 'alarms:read')
    const { limit, cursor, ...filters } = query
    this.#repeats.flush()
    const after = cursor === undefined ? undefined : pageKeyOf(cursor)
    const rows = this.store.list(principal.tenantId, filters, after, limit + 1)
    const page = pageOf(rows, limit, (r) => `${String(r.key.raisedAt)}:${String(r.key.seq)}`)
    return { items: page.items.map((r) => r.alarm), nextCursor: page.nextCursor }
  }

  /** The tenant's open alarms counted by severity and by status. */
  summary(principal: Principal): AlarmSummary {
    requirePermission(principal, 'alarms:read')
    const bySeverity = Object.fromEntries(alarmSeverities.map((s) => [s, 0])) as Record<
      AlarmSeverity,
      number
    >
    const byStatus = { active: 0, acknowledged: 0 }
    let open = 0
    for (const { status, severity, n } of this.store.openCounts(principal.tenantId)) {
      open += n
      bySeverity[severity] += n
      if (status === 'active' || status === 'acknowledged') byStatus[status] += n
    }
    return { open, bySeverity, byStatus }
  }

  /** Acknowledges an active alarm (`alarms:manage`); `CLOUD_ALARM_STATE` in any other status. */
  acknowledge(principal: Principal, id: string, comment?: string): Alarm {
    requirePermission(principal, 'alarms:manage')
    const text = comment === undefined ? undefined : checkComment(comment, this.options)
    const now = this.#clock()
    const result = this.#repeats.transact(() => {
      const alarm = this.#own(principal, id)
      if (alarm.status !== 'active') throw stateError(alarm, 'acknowledged', 'active')
      if (text !== undefined) this.#addComment(alarm, now, principal.actor, text)
      this.store.acknowledge(alarm.id, now, principal.actor)
      const event = this.store.addEvent(
        alarm.tenantId,
        alarm.id,
        'acknowledged',
        now,
        principal.actor,
        text === undefined ? {} : { comment: text },
      )
      this.#auditAction(principal, 'alarm.acknowledge', alarm)
      return { alarm: this.store.get(alarm.id) as Alarm, event }
    })
    this.#repeats.forget(result.alarm.id)
    this.#emit(result)
    return result.alarm
  }

  /** Clears an open alarm by hand (`alarms:manage`); `CLOUD_ALARM_STATE` when already cleared. */
  clearByUser(principal: Principal, id: string, comment?: string): Alarm {
    requirePermission(principal, 'alarms:manage')
    const text = comment === undefined ? undefined : checkComment(comment, this.options)
    const now = this.#clock()
    const result = this.#repeats.transact(() => {
      const alarm = this.#own(principal, id)
      if (alarm.status === 'cleared') throw stateError(alarm, 'cleared', 'active or acknowledged')
      this.#auditAction(principal, 'alarm.clear', alarm)
      return this.#clear(alarm, now, principal.actor, text)
    })
    this.#forget(result.alarm)
    this.#emit(result)
    return result.alarm
  }

  /** Comments on an alarm in any status (`alarms:manage`); returns the comment. */
  comment(principal: Principal, id: string, text: string): AlarmComment {
    requirePermission(principal, 'alarms:manage')
    const checked = checkComment(text, this.options)
    const now = this.#clock()
    const result = this.#repeats.transact(() => {
      const alarm = this.#own(principal, id)
      const commentId = this.#addComment(alarm, now, principal.actor, checked)
      const event = this.store.addEvent(
        alarm.tenantId,
        alarm.id,
        'commented',
        now,
        principal.actor,
        {
          commentId,
          text: checked,
        },
      )
      this.#auditAction(principal, 'alarm.comment', alarm, { commentId })
      const comment: AlarmComment = {
        id: commentId,
        alarmId: alarm.id,
        at: now,
        by: principal.actor,
        text: checked,
      }
      return { alarm: this.store.get(alarm.id) as Alarm, event, comment }
    })
    this.#repeats.forget(result.alarm.id)
    this.#emit(result)
    return result.comment
  }

  /** An alarm's comments, oldest first. */
  comments(principal: Principal, id: string): AlarmComment[] {
    requirePermission(principal, 'alarms:read')
    this.#repeats.flush()
    return this.store.comments(this.#own(principal, id).id)
  }

  /** One page of an alarm's history, newest first. */
  history(
    principal: Principal,
    id: string,
    q: { limit: number; cursor?: string } = { limit: 100 },
  ): Page<AlarmHistoryEntry> {
    requirePermission(principal, 'alarms:read')
    this.#repeats.flush()
    const alarm = this.#own(principal, id)
    const rows = this.store.history(alarm.id, seqCursor(q.cursor), q.limit + 1)
    return pageOf(rows, q.limit, (e) => String(e.seq))
  }

  /** Writes the repeat raises held in memory and stops the flush timer. Idempotent. */
  close(): Promise<void> {
    clearInterval(this.#purgeTimer)
    clearImmediate(this.#purgeSoon)
    this.#repeats.close()
    return Promise.resolve()
  }

  /** An alarm was cleared: no longer open, no longer repeated. */
  #forget(alarm: Alarm): void {
    this.#index.remove(alarm)
    this.#repeats.forget(alarm.id)
  }

  /** A repeat raise at the same severity: extends the newest entry when it is a run of repeats. */
  #recordRepeat(
    open: Alarm,
    at: number,
    by: string,
    count: number,
    message: string | null,
  ): AlarmHistoryEntry {
    const last = this.store.lastEvent(open.id)
    const withMessage = message === null ? {} : { message }
    if (last?.kind !== 're-raised') {
      return this.store.addEvent(open.tenantId, open.id, 're-raised', at, by, {
        count,
        repeats: 1,
        firstAt: at,
        ...withMessage,
      })
    }
    const repeats = typeof last.details['repeats'] === 'number' ? last.details['repeats'] + 1 : 1
    const firstAt = typeof last.details['firstAt'] === 'number' ? last.details['firstAt'] : at
    const details = { count, repeats, firstAt, ...withMessage }
    const latest = Math.max(at, last.at)
    this.store.updateEvent(last.seq, latest, by, details)
    return { ...last, at: latest, by, details }
  }

  /** Clears an open alarm inside the caller's transaction. */
  #clear(open: Alarm, at: number, by: string, comment: string | undefined): AlarmChange {
    if (comment !== undefined) this.#addComment(open, at, by, comment)
    this.store.clear(open.id, at, by)
    const event = this.store.addEvent(
      open.tenantId,
      open.id,
      'cleared',
      at,
      by,
      comment === undefined ? {} : { comment },
    )
    return { alarm: this.store.get(open.id) as Alarm, event }
  }

  #addComment(alarm: Alarm, at: number, by: string, text: string): number {
    if (alarm.comments >= this.options.maxCommentsPerAlarm) {
      throw new CloudError(
        'CLOUD_CONFLICT',
        `alarm ${alarm.id} has ${String(this.options.maxCommentsPerAlarm)} comments`,
      )
    }
    return this.store.addComment(alarm.tenantId, alarm.id, at, by, text)
  }

  #auditAction(
    principal: Principal,
    action: string,
    alarm: Alarm,
    extra: Record<string, unknown> = {},
  ): void {
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action,
      target: `device:${alarm.deviceId}`,
      outcome: 'ok',
      details: { alarmId: alarm.id, type: alarm.type, ...extra },
    })
  }

  #emit(change: AlarmChange): void {
    const { alarm, event } = change
    for (const listener of this.#listeners) listener({ alarm, event })
  }

  #own(principal: Principal, id: string): Alarm {
    const alarm = this.store.get(id)
    if (alarm?.tenantId !== principal.tenantId) throw notFound('alarm', id)
    return alarm
  }
}
