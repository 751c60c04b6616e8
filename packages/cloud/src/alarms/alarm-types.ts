import type { JsonObject } from '@strata/protocol'

/** How bad an alarm is, from least to most severe (the order escalation compares by). */
export const alarmSeverities = ['info', 'warning', 'error', 'critical'] as const
export type AlarmSeverity = (typeof alarmSeverities)[number]

/** Where an alarm is: active → acknowledged → cleared, or active → cleared. */
export const alarmStatuses = ['active', 'acknowledged', 'cleared'] as const
export type AlarmStatus = (typeof alarmStatuses)[number]

/** A list's status filter: one status, or `open` (active or acknowledged). */
export type AlarmStatusFilter = AlarmStatus | 'open'

/** What can happen to an alarm; each is one entry of its history. */
export const alarmEventKinds = [
  'raised',
  'escalated',
  're-raised',
  'acknowledged',
  'cleared',
  'commented',
] as const
export type AlarmEventKind = (typeof alarmEventKinds)[number]

/** Who raised an alarm: a rule (with the version that matched) or a user (`user:<id>`, `token:<id>`). */
export type AlarmSource =
  { readonly rule?: string; readonly ruleVersion?: number } | { readonly user: string }

/** An alarm as stored and shown. Times are epoch ms; absent values are null. */
export interface Alarm {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  readonly type: string
  readonly severity: AlarmSeverity
  readonly status: AlarmStatus
  readonly message: string | null
  readonly details: JsonObject | null
  /** Who raised it first. */
  readonly source: { readonly rule?: string; readonly ruleVersion?: number; readonly user?: string }
  readonly raisedAt: number
  /** The latest raise while it was open (a repeat raise updates this and `count`). */
  readonly lastRaisedAt: number
  /** How many times it was raised while open (1 for a new alarm). */
  readonly count: number
  readonly acknowledgedAt: number | null
  readonly acknowledgedBy: string | null
  readonly clearedAt: number | null
  /** `rule:<name>` for a rule's auto-clear, `user:<id>` / `token:<id>` for a person. */
  readonly clearedBy: string | null
  /** How many comments it has. */
  readonly comments: number
}

/** One entry of an alarm's history. */
export interface AlarmHistoryEntry {
  readonly seq: number
  readonly alarmId: string
  readonly kind: AlarmEventKind
  /** When (for `re-raised`, the latest raise of a run of repeats merged into one entry). */
  readonly at: number
  /** `rule:<name>`, `user:<id>` or `token:<id>`. */
  readonly by: string
  /**
   * What changed: `raised` {severity, message?}; `escalated` {from, to, count} (any change of
   * severity); `re-raised` {count, repeats, firstAt, message?}; `acknowledged` / `cleared`
   * {comment?}; `commented` {commentId, text}.
   */
  readonly details: JsonObject
}

/** A comment on an alarm. */
export interface AlarmComment {
  readonly id: number
  readonly alarmId: string
  readonly at: number
  readonly by: string
  readonly text: string
}

/** An alarm changed: how it is now, and the history entry that says what happened. */
export interface AlarmChange {
  readonly alarm: Alarm
  readonly event: AlarmHistoryEntry
}

/** Told each {@link AlarmChange} after it is committed; must return at once and not throw. */
export type AlarmChangeListener = (change: AlarmChange) => void

/** A raise: from a rule (the rule engine) or a user (the API). */
export interface AlarmRaise {
  readonly tenantId: string
  readonly deviceId: string
  readonly type: string
  readonly severity: AlarmSeverity
  readonly message?: string
  readonly details?: JsonObject
  readonly source: AlarmSource
  /** When it happened (the message's time for a rule), epoch ms. */
  readonly at: number
}

/** A rule's clear of the open alarm of a device and type. */
export interface AlarmClear {
  readonly tenantId: string
  readonly deviceId: string
  readonly type: string
  readonly at: number
  /** `rule:<name>` (or whoever clears). */
  readonly by: string
}

/** Filters of an alarm list; results come newest first (by `raisedAt`). */
export interface AlarmQuery {
  readonly limit: number
  readonly cursor?: string
  readonly status?: AlarmStatusFilter
  readonly severity?: readonly AlarmSeverity[]
  readonly deviceId?: readonly string[]
  readonly type?: string
  readonly rule?: string
  /** Text found (case-insensitively, ASCII) in the type, message or device id. */
  readonly q?: string
  /** `raisedAt` ≥ from. */
  readonly from?: number
  /** `raisedAt` < to. */
  readonly to?: number
}

/** Open alarms of a tenant, counted for an overview. */
export interface AlarmSummary {
  readonly open: number
  readonly bySeverity: Readonly<Record<AlarmSeverity, number>>
  readonly byStatus: { readonly active: number; readonly acknowledged: number }
}

/** Limits of alarms. */
export interface AlarmOptions {
  /** Longest alarm type, in characters (default 128). */
  readonly maxTypeLength: number
  /** Longest message in bytes of UTF-8 (default 2 KiB); a longer one is cut, not refused. */
  readonly maxMessageBytes: number
  /** Largest `details`, in bytes of JSON (default 16 KiB); larger is `CLOUD_INVALID`. */
  readonly maxDetailsBytes: number
  /** Longest comment in bytes of UTF-8 (default 4 KiB). */
  readonly maxCommentBytes: number
  /** Comments one alarm may have (default 1,000). */
  readonly maxCommentsPerAlarm: number
  /** Open alarms one tenant may have (default 100,000); a new one beyond is `CLOUD_CONFLICT`. */
  readonly maxOpenPerTenant: number
  /**
   * How often repeat raises held in memory are written (default 1 s): a crash loses at most this
   * much of `count` and `lastRaisedAt`, never an alarm or a change of status or severity.
   */
  readonly repeatFlushMs: number
  /**
   * How long a cleared alarm is kept, with its history and comments, counted from when it was
   * cleared (default 365 days); `Infinity` keeps every one. Open alarms are never removed.
   */
  readonly keepClearedMs: number
  /** How often cleared alarms past `keepClearedMs` are removed (default hourly, and at start). */
  readonly purgeIntervalMs: number
}

export const defaultAlarmOptions: AlarmOptions = {
  maxTypeLength: 128,
  maxMessageBytes: 2048,
  maxDetailsBytes: 16 * 1024,
  maxCommentBytes: 4096,
  maxCommentsPerAlarm: 1000,
  maxOpenPerTenant: 100_000,
  repeatFlushMs: 1000,
  keepClearedMs: 365 * 24 * 3_600_000,
  purgeIntervalMs: 3_600_000,
}
