/**
 * @strata/cloud — the cloud services: tenants, users and API tokens; the device registry with
 * lifecycle and presence; device identity (a CA, certificates from CSRs, claim-based provisioning,
 * revocation); MQTT access control and telemetry ingestion; the HTTP API; the audit log. `startNode`
 * composes them into the all-in-one node behind `strata up`.
 */
export { startNode, type NodeOptions, type StrataNode } from './node/start-node.js'
export { CloudError, cloudErrorCodes, type CloudErrorCode } from './errors.js'
export { IdentityError, identityErrorCodes, type IdentityErrorCode } from './identity/index.js'
export { openStateDb, type StateDb } from './db/state-db.js'
export {
  AuditLog,
  type AuditEntry,
  type AuditEvent,
  type AuditVerification,
} from './audit/audit-log.js'
export { roles, type Role } from './accounts/roles.js'
export { Alarms, type ManualAlarm } from './alarms/alarms.js'
export { deviceListSorts, type DeviceListSort } from './registry/device-list-sort.js'
export type { RuleSource, RuleStats, RuleStatsSource, StoredRule } from './rules/rule-types.js'
export {
  alarmSeverities,
  alarmStatuses,
  alarmEventKinds,
  defaultAlarmOptions,
  type Alarm,
  type AlarmChange,
  type AlarmChangeListener,
  type AlarmClear,
  type AlarmComment,
  type AlarmEventKind,
  type AlarmHistoryEntry,
  type AlarmOptions,
  type AlarmQuery,
  type AlarmRaise,
  type AlarmSeverity,
  type AlarmSource,
  type AlarmStatus,
  type AlarmStatusFilter,
  type AlarmSummary,
} from './alarms/alarm-types.js'
