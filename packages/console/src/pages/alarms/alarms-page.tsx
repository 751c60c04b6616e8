import { useEffect, useState } from 'preact/hooks'
import type { Alarm, Page } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { Link, navigate, useLocation } from '../../app/router.js'
import { DataTable, type Column } from '../../components/data-table.js'
import { formatAgo, formatTime } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { AlarmActions, alarmHref } from './alarm-actions.js'
import { AlarmFilterForm } from './alarm-filter-form.js'
import { apiQueryOf, filtersOf, searchOf } from './alarm-filters.js'

const pageSize = 50
/** Live changes arrive in bursts (a rule raising on many devices): one reload per this window. */
const reloadAfterMs = 400

function columns(onChanged: () => void): readonly Column<Alarm>[] {
  return [
    {
      key: 'severity',
      label: 'Severity',
      sortValue: (a) => ['info', 'warning', 'error', 'critical'].indexOf(a.severity),
      render: (a) => <span class={`sev sev-${a.severity}`}>{a.severity}</span>,
    },
    {
      key: 'type',
      label: 'Alarm',
      sortValue: (a) => a.type,
      render: (a) => <Link href={alarmHref(a.id)}>{a.type}</Link>,
    },
    {
      key: 'device',
      label: 'Device',
      sortValue: (a) => a.deviceId,
      render: (a) => <Link href={`/devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId}</Link>,
    },
    {
      key: 'status',
      label: 'Status',
      sortValue: (a) => a.status,
      render: (a) => (
        <span class={`badge alarm-${a.status}`} data-testid="alarm-status">
          {a.status}
        </span>
      ),
    },
    {
      key: 'raised',
      label: 'Raised',
      sortValue: (a) => a.raisedAt,
      render: (a) => formatTime(a.raisedAt),
    },
    {
      key: 'last',
      label: 'Last raised',
      sortValue: (a) => a.lastRaisedAt,
      render: (a) => `${formatAgo(a.lastRaisedAt)}${a.count > 1 ? ` (×${String(a.count)})` : ''}`,
    },
    {
      key: 'message',
      label: 'Message',
      render: (a) => <span class="clip">{a.message ?? ''}</span>,
    },
    {
      key: 'actions',
      label: 'Actions',
      render: (a) => <AlarmActions alarm={a} onChanged={onChanged} />,
    },
  ]
}

/**
 * The tenant's alarms, newest raised first, a page at a time from the node, filtered by status,
 * severity, device, type, rule, text and raise time (kept in the URL); acknowledge and clear from
 * the list. The page follows the live feed's `alarms` topic: a raise, acknowledgement or clear
 * anywhere shows within a moment.
 */
export function AlarmsPage() {
  const { api, live } = useApp()
  const { query } = useLocation()
  const applied = filtersOf(query)
  const search = searchOf(applied)
  const [reloadKey, setReloadKey] = useState(0)
  const reload = () => setReloadKey((k) => k + 1)

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const off = live.subscribe({ topics: ['alarms'] }, () => {
      timer ??= setTimeout(() => {
        timer = undefined
        reload()
      }, reloadAfterMs)
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }, [live])

  return (
    <>
      <PageHeader title="Alarms" />
      <AlarmFilterForm
        key={search}
        initial={applied}
        onApply={(f) => navigate(`/alarms?${searchOf(f)}`, { replace: true })}
      />
      <DataTable<Alarm>
        caption="Alarms"
        columns={columns(reload)}
        rowKey={(a) => a.id}
        empty="No alarms match."
        resetOn={[search]}
        reloadKey={reloadKey}
        fetchPage={(cursor, signal) =>
          api.get<Page<Alarm>>(
            '/api/v1/alarms',
            { ...apiQueryOf(applied), limit: pageSize, cursor },
            signal,
          )
        }
      />
    </>
  )
}
