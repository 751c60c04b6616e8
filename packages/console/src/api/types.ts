// The shapes the console reads from the public API (see /api/v1/openapi.json). Only the fields the
// console uses are typed; the API may send more.

export type Role = 'admin' | 'operator' | 'viewer' | 'provisioner'

export interface Principal {
  readonly kind: 'user' | 'token'
  readonly id: string
  readonly tenantId: string
  readonly role: Role
  readonly platformAdmin: boolean
}

export interface User {
  readonly id: string
  readonly email: string
  readonly role: Role
}

export interface Health {
  readonly status: 'ok'
  readonly setupPending: boolean
  readonly mqtt: { readonly url: string; readonly tlsUrl: string }
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly nextCursor: string | null
}

export type PresenceStatus = 'online' | 'sleeping' | 'offline'

export interface Presence {
  readonly status: PresenceStatus
  readonly reason: string
  readonly since: number
  readonly lastSeenAt: number | null
}

export type DeviceState = 'pending' | 'provisioned' | 'active' | 'disabled' | 'revoked'

export interface Device {
  readonly id: string
  readonly name: string
  readonly profileId: string | null
  readonly state: DeviceState
  readonly stateReason: string
  readonly labels: Readonly<Record<string, string>>
  readonly attributes: Readonly<Record<string, unknown>>
  readonly createdAt: number
  readonly updatedAt: number
  readonly presence: Presence
}

/** `GET /api/v1/devices/summary`: the tenant's devices counted by state and by presence. */
export interface FleetSummary {
  readonly total: number
  readonly byState: Readonly<Record<DeviceState, number>>
  readonly byPresence: {
    readonly online: number
    readonly sleeping: number
    readonly offline: number
  }
}

/** One change of a device's presence (`GET /api/v1/devices/{id}/presence-history`). */
export interface PresenceEvent {
  readonly status: 'online' | 'sleeping' | 'offline'
  readonly reason: string
  readonly at: number
}

export interface DeviceToken {
  readonly id: string
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

export interface Certificate {
  readonly serialNumber: string
  readonly fingerprintSha256: string
  readonly notBefore: number
  readonly notAfter: number
  readonly revokedAt: number | null
  readonly revokeReason: string | null
}

export type JsonObject = Record<string, unknown>

export interface Twin {
  readonly deviceId: string
  readonly desired: JsonObject
  readonly reported: JsonObject
  readonly desiredVersion: number
  readonly reportedVersion: number
  readonly desiredUpdatedAt: number | null
  readonly reportedUpdatedAt: number | null
  readonly deliveredDesiredVersion: number
}

export type CommandStatus = 'queued' | 'delivered' | 'succeeded' | 'failed' | 'expired'

export interface Command {
  readonly id: string
  readonly deviceId: string
  readonly name: string
  readonly params: JsonObject
  readonly status: CommandStatus
  readonly statusReason: string
  readonly createdAt: number
  readonly finishedAt: number | null
  readonly result: JsonObject | null
  readonly error: { readonly code: string; readonly message: string } | null
}

export interface SeriesKey {
  readonly device: string
  readonly metric: string
  readonly tags: Readonly<Record<string, string>>
}

export interface AggregateGroup {
  readonly series?: SeriesKey
  readonly times: readonly number[]
  readonly values: Readonly<Record<string, readonly (number | boolean | string | null)[]>>
}

export type Severity = 'info' | 'warning' | 'error' | 'critical'

export interface AlarmSummary {
  readonly open: number
  readonly bySeverity: Readonly<Record<Severity, number>>
  readonly byStatus?: Readonly<Record<string, number>>
}

export type AlarmStatus = 'active' | 'acknowledged' | 'cleared'

/** An alarm as `GET /api/v1/alarms/{id}` shows it (docs/node.md §12): epoch ms, null for absent. */
export interface Alarm {
  readonly id: string
  readonly deviceId: string
  readonly type: string
  readonly severity: Severity
  readonly status: AlarmStatus
  readonly message: string | null
  readonly details: JsonObject | null
  readonly source: { readonly rule?: string; readonly ruleVersion?: number; readonly user?: string }
  readonly raisedAt: number
  readonly lastRaisedAt: number
  readonly count: number
  readonly acknowledgedAt: number | null
  readonly acknowledgedBy: string | null
  readonly clearedAt: number | null
  readonly clearedBy: string | null
  readonly comments: number
}

export type AlarmEventKind =
  'raised' | 'escalated' | 're-raised' | 'acknowledged' | 'cleared' | 'commented'

export interface AlarmHistoryEntry {
  readonly seq: number
  readonly kind: AlarmEventKind
  readonly at: number
  readonly by: string
  readonly details: JsonObject
}

export interface AlarmComment {
  readonly id: number
  readonly at: number
  readonly by: string
  readonly text: string
}

export interface RuleStats {
  readonly evaluations: number
  readonly selected: number
  readonly matched: number
  readonly errors: number
  readonly actionsRun: number
  readonly actionsFailed: number
  readonly ratePerSecond: number
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number }
  readonly lastMatchAt?: number
  readonly health: 'ok' | 'failing' | 'disabled'
  readonly deadLetters: number
}

/** A rule as `GET /api/v1/rules/{name}` shows it (secrets as "********"); ETag = version. */
export interface Rule {
  readonly name: string
  readonly version: number
  readonly enabled: boolean
  readonly definition: JsonObject
  readonly createdAt: number
  readonly updatedAt: number
  readonly updatedBy: string
  readonly disabledReason?: string
  readonly disabledAt?: number
  readonly stats?: RuleStats
}

export interface RuleVersion {
  readonly version: number
  readonly definition: JsonObject
  readonly at: number
  readonly by: string
  readonly change: string
}

/** One evaluation of a dry run or replay (docs/rules.md, "Dry runs and replays"). */
export interface DryRunStep {
  readonly source: 'message' | 'tick'
  readonly index?: number
  readonly result: {
    readonly deviceId: string
    readonly at: number
    readonly selected: boolean
    readonly matched: boolean
    readonly output?: unknown
    readonly actions: readonly unknown[]
    readonly missing?: string
    readonly error?: { readonly code: string; readonly message: string }
  }
}

export interface DryRunReport {
  readonly steps: readonly DryRunStep[]
  readonly summary: {
    readonly messages: number
    readonly selected: number
    readonly matched: number
    readonly errors: number
  }
  readonly health: { readonly status: string; readonly lastError?: { readonly message: string } }
  readonly window?: {
    readonly from: number
    readonly to: number
    readonly messages: number
    readonly truncated: boolean
  }
}

/** A JSON pointer into a rule definition and what is wrong there (a 400's `details.violations`). */
export interface RuleViolation {
  readonly path: string
  readonly message: string
}

export interface UserAccount {
  readonly id: string
  readonly email: string
  readonly role: Role
  readonly platformAdmin: boolean
  readonly createdAt: number
  readonly disabledAt: number | null
}

export interface ApiToken {
  readonly id: string
  readonly name: string
  readonly role: Role
  readonly createdBy: string | null
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

export type AuditOutcome = 'ok' | 'denied' | 'failed'

export interface AuditEntry {
  readonly seq: number
  readonly ts: number
  readonly actor: string
  readonly action: string
  readonly target: string
  readonly outcome: AuditOutcome
  readonly details: JsonObject
  readonly hash: string
}

/** `GET /api/v1/audit/verify`: the whole chain recomputed. */
export interface AuditVerification {
  readonly ok: boolean
  readonly entries: number
  readonly headHash?: string
  readonly brokenAt?: number
  readonly problem?: string
}
