import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { Alarm } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { Link } from '../../app/router.js'
import { ApiErrorPage } from '../../components/error-page.js'
import { formatJson, formatTime } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { useAsync } from '../../components/use-async.js'
import { AlarmActions } from './alarm-actions.js'
import { AlarmComments } from './alarm-comments.js'
import { AlarmHistory } from './alarm-history.js'

/**
 * One alarm: what, where, since when, who acknowledged or cleared it; acknowledge, clear,
 * comment; its comments and history. Changes made anywhere arrive from the live feed.
 */
export function AlarmPage({ alarmId }: { readonly alarmId: string }) {
  const { api, live } = useApp()
  const loaded = useAsync(
    (signal) => api.get<Alarm>(`/api/v1/alarms/${encodeURIComponent(alarmId)}`, undefined, signal),
    [alarmId],
  )
  const [fresh, setFresh] = useState<Alarm | undefined>()
  const [changes, setChanges] = useState(0)
  const alarm = fresh ?? loaded.data
  const deviceId = alarm?.deviceId

  useEffect(() => {
    if (deviceId === undefined) return undefined
    return live.subscribe({ topics: ['alarms'], devices: [deviceId] }, (e) => {
      if (e.type !== 'alarm' || e.alarm.id !== alarmId) return
      setFresh(e.alarm)
      setChanges((n) => n + 1)
    })
  }, [live, deviceId, alarmId])

  if (loaded.error !== undefined)
    return <ApiErrorPage error={loaded.error} onRetry={loaded.reload} />
  if (alarm === undefined) return <p aria-busy="true">Loading the alarm…</p>
  const changed = (a: Alarm) => {
    setFresh(a)
    setChanges((n) => n + 1)
  }
  const facts: [string, ComponentChildren][] = [
    ['Severity', <span class={`sev sev-${alarm.severity}`}>{alarm.severity}</span>],
    [
      'Status',
      <span class={`badge alarm-${alarm.status}`} data-testid="alarm-status">
        {alarm.status}
      </span>,
    ],
    [
      'Device',
      <Link href={`/devices/${encodeURIComponent(alarm.deviceId)}`}>{alarm.deviceId}</Link>,
    ],
    [
      'Raised by',
      alarm.source.rule !== undefined ? (
        <>
          rule{' '}
          <Link href={`/rules/${encodeURIComponent(alarm.source.rule)}`}>{alarm.source.rule}</Link>
          {alarm.source.ruleVersion === undefined ? '' : ` v${String(alarm.source.ruleVersion)}`}
        </>
      ) : (
        (alarm.source.user ?? '—')
      ),
    ],
    ['Raised', formatTime(alarm.raisedAt)],
    [
      'Last raised',
      `${formatTime(alarm.lastRaisedAt)} (${alarm.count === 1 ? 'once' : `${String(alarm.count)} times`})`,
    ],
    [
      'Acknowledged',
      alarm.acknowledgedAt === null
        ? '—'
        : `${formatTime(alarm.acknowledgedAt)} by ${alarm.acknowledgedBy ?? '?'}`,
    ],
    [
      'Cleared',
      alarm.clearedAt === null
        ? '—'
        : `${formatTime(alarm.clearedAt)} by ${alarm.clearedBy ?? '?'}`,
    ],
  ]
  return (
    <>
      <p class="breadcrumb">
        <Link href="/alarms">Alarms</Link> /
      </p>
      <PageHeader title={`${alarm.type} on ${alarm.deviceId}`}>
        <AlarmActions alarm={alarm} onChanged={changed} />
      </PageHeader>
      <section class="card" aria-labelledby="alarm-facts-title">
        <h2 id="alarm-facts-title">The alarm</h2>
        {alarm.message === null ? null : <p class="alarm-message">{alarm.message}</p>}
        <dl class="facts">
          {facts.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        {alarm.details === null ? null : (
          <>
            <h3>Details</h3>
            <pre class="json small" tabIndex={0}>
              {formatJson(alarm.details)}
            </pre>
          </>
        )}
      </section>
      <div class="two-columns">
        <AlarmComments
          alarmId={alarm.id}
          reloadKey={changes}
          onAdded={() => setChanges((n) => n + 1)}
        />
        <AlarmHistory alarmId={alarm.id} reloadKey={changes} />
      </div>
    </>
  )
}
