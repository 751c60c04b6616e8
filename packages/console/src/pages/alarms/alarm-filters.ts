import type { Query } from '../../api/api-client.js'
import type { AlarmStatus, Severity } from '../../api/types.js'

export const alarmStatuses: readonly AlarmStatus[] = ['active', 'acknowledged', 'cleared']
export const severities: readonly Severity[] = ['critical', 'error', 'warning', 'info']

/** The Alarms page's filters, as the form holds them and the URL carries them. */
export interface AlarmFilters {
  /** '' for any status; `open` is active or acknowledged. */
  readonly status: AlarmStatus | 'open' | ''
  readonly severity: Severity | ''
  readonly device: string
  readonly type: string
  readonly rule: string
  readonly q: string
  /** `datetime-local` values (the browser's time zone); '' for none. */
  readonly from: string
  readonly to: string
}

const filterKeys = ['status', 'severity', 'device', 'type', 'rule', 'q', 'from', 'to'] as const

/**
 * The filters of a URL's query (`/alarms?device=pump-7&status=`): links from the overview and the
 * device page open the list already filtered. Without a `status` parameter, open alarms.
 */
export function filtersOf(query: URLSearchParams): AlarmFilters {
  const get = (k: string) => query.get(k) ?? ''
  const status = query.has('status') ? get('status') : 'open'
  const severity = get('severity')
  return {
    status:
      status === 'open' || alarmStatuses.includes(status as AlarmStatus)
        ? (status as AlarmFilters['status'])
        : '',
    severity: severities.includes(severity as Severity) ? (severity as Severity) : '',
    device: get('device'),
    type: get('type'),
    rule: get('rule'),
    q: get('q'),
    from: get('from'),
    to: get('to'),
  }
}

/** The URL query that reopens these filters (shareable, kept by the browser's history). */
export function searchOf(filters: AlarmFilters): string {
  const params = new URLSearchParams()
  for (const k of filterKeys) if (filters[k] !== '' || k === 'status') params.set(k, filters[k])
  return params.toString()
}

/** The `GET /api/v1/alarms` query for these filters (times as epoch ms). */
export function apiQueryOf(filters: AlarmFilters): Query {
  const ms = (local: string) => (local === '' ? undefined : new Date(local).getTime())
  return {
    status: filters.status || undefined,
    severity: filters.severity || undefined,
    device: filters.device.trim() || undefined,
    type: filters.type.trim() || undefined,
    rule: filters.rule.trim() || undefined,
    q: filters.q.trim() || undefined,
    from: ms(filters.from),
    to: ms(filters.to),
  }
}
