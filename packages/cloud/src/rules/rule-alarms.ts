/**
 * What the rule engine needs of the alarms service (packages/cloud/src/alarms, class `Alarms`,
 * which satisfies it structurally). `isOpen` must be O(1) in memory: it runs per message.
 */
export interface AlarmSink {
  raise(input: {
    readonly tenantId: string
    readonly deviceId: string
    readonly type: string
    readonly severity: 'info' | 'warning' | 'error' | 'critical'
    readonly message?: string
    readonly details?: Record<string, unknown>
    readonly source: { readonly rule: string; readonly ruleVersion: number }
    readonly at: number
  }): unknown
  clear(input: {
    readonly tenantId: string
    readonly deviceId: string
    readonly type: string
    readonly at: number
    readonly by: string
  }): unknown
  isOpen(tenantId: string, deviceId: string, type: string): boolean
}

/** What an alarm action does with one result. */
export type AlarmStep = 'raise' | 'clear' | 'none'

/**
 * Decides an alarm action's step for one evaluation, without touching the database unless it
 * must: a match raises the alarm unless it is open already; a selected message that did not
 * match (and did not fail) clears it when `autoClear` is on and it is open. A message the rule
 * did not select, a failed evaluation, or a condition that read a missing field changes nothing.
 *
 * @example
 * alarmStep(result, action.autoClear ?? true, () => alarms.isOpen(tenantId, deviceId, action.name))
 */
export function alarmStep(
  result: {
    readonly selected: boolean
    readonly matched: boolean
    readonly error?: unknown
    readonly missing?: string
  },
  autoClear: boolean,
  isOpen: () => boolean,
): AlarmStep {
  if (result.matched) return isOpen() ? 'none' : 'raise'
  if (!result.selected || !autoClear) return 'none'
  if (result.error !== undefined || result.missing !== undefined) return 'none'
  return isOpen() ? 'clear' : 'none'
}
