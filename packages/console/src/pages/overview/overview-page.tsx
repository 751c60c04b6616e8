import { useEffect, useRef, useState } from 'preact/hooks'
import type { LiveEvent } from '../../api/live-feed.js'
import type { AlarmSummary, Severity } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link } from '../../app/router.js'
import { InlineError } from '../../components/error-page.js'
import { formatNumber, formatTime } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { useAsync } from '../../components/use-async.js'
import { hasApiRoute } from '../../api/api-routes.js'
import { EventRate } from './event-rate.js'
import { countFleet } from './fleet-counts.js'

const severities: readonly Severity[] = ['critical', 'error', 'warning', 'info']
const maxEvents = 30

interface Shown {
  readonly key: number
  readonly at: number
  readonly event: LiveEvent
}

/** The fleet at a glance: devices connected of total, messages per second, open alarms, recent events. */
export function OverviewPage() {
  const { api, live } = useApp()
  const canDevices = useCan('devices:read')
  const canAlarms = useCan('alarms:read')
  const [tick, setTick] = useState(0)
  const fleet = useAsync(
    (signal) => (canDevices ? countFleet(api, signal) : Promise.resolve(undefined)),
    [tick],
  )
  const alarms = useAsync(
    // Alarms are not on every node yet, nor readable by every role: no tile then.
    async (signal) =>
      canAlarms && (await hasApiRoute(api, '/api/v1/alarms/summary'))
        ? api.get<AlarmSummary>('/api/v1/alarms/summary', undefined, signal)
        : undefined,
    [tick],
  )
  const messages = useRef(new EventRate())
  const points = useRef(new EventRate())
  const [rates, setRates] = useState({ messages: 0, points: 0 })
  const [events, setEvents] = useState<readonly Shown[]>([])
  const nextKey = useRef(0)

  useEffect(() => {
    let stale = false
    const off = live.subscribe(
      { topics: ['telemetry', 'presence', 'commands', 'twin', 'alarms'] },
      (event) => {
        if (event.type === 'telemetry') {
          messages.current.add(1)
          points.current.add(event.points.length)
          return
        }
        if (event.type === 'presence' || event.type === 'alarm') stale = true
        setEvents((list) =>
          [{ key: nextKey.current++, at: Date.now(), event }, ...list].slice(0, maxEvents),
        )
      },
    )
    const timer = setInterval(() => {
      setRates({ messages: messages.current.perSecond(), points: points.current.perSecond() })
      if (stale) {
        stale = false
        setTick((t) => t + 1)
      }
    }, 1000)
    return () => {
      off()
      clearInterval(timer)
    }
  }, [live])

  const f = fleet.data
  return (
    <>
      <PageHeader title="Fleet overview" />
      <InlineError error={fleet.error ?? alarms.error} />
      <section class="tiles" aria-label="Fleet figures">
        {canDevices ? (
          <div class="tile">
            <h2>Devices connected</h2>
            <p class="figure" data-testid="devices-online">
              {f === undefined
                ? '…'
                : `${formatNumber(f.byPresence.online)} / ${formatNumber(f.total)}`}
            </p>
            <p class="muted">
              online of registered
              {f === undefined || f.byPresence.sleeping === 0
                ? ''
                : `, ${formatNumber(f.byPresence.sleeping)} sleeping`}
            </p>
          </div>
        ) : null}
        <div class="tile">
          <h2>Messages per second</h2>
          <p class="figure" data-testid="messages-rate">
            {formatNumber(rates.messages)}
          </p>
          <p class="muted">{formatNumber(rates.points)} points/s, live, last 10 s</p>
        </div>
        {alarms.data === undefined ? null : (
          <div class="tile" data-testid="alarm-tile">
            <h2>
              <Link href="/alarms?status=open">Open alarms</Link>
            </h2>
            <p class="figure">{formatNumber(alarms.data.open)}</p>
            <ul class="severity-list">
              {severities.map((s) => (
                <li key={s} class={`sev sev-${s}`}>
                  <Link href={`/alarms?status=open&severity=${s}`}>
                    {s} {alarms.data?.bySeverity[s] ?? 0}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="events-title">
        <h2 id="events-title">Recent events</h2>
        {events.length === 0 ? (
          <p class="muted">
            Nothing yet: presence changes, commands, twin changes and alarms appear here as they
            happen.
          </p>
        ) : (
          <ol class="events" data-testid="recent-events">
            {events.map((e) => (
              <li key={e.key}>
                <time>{formatTime(e.at)}</time>{' '}
                <Link href={`/devices/${encodeURIComponent(e.event.deviceId)}`}>
                  {e.event.deviceId}
                </Link>{' '}
                {describe(e.event)}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  )
}

function describe(e: LiveEvent): string {
  switch (e.type) {
    case 'presence':
      return `is ${e.status} (${e.reason})`
    case 'command':
      return `command ${e.name}: ${e.status}`
    case 'twin':
      return `${e.side} twin → version ${e.version}`
    case 'alarm':
      return `alarm ${e.alarm.type} (${e.alarm.severity}) ${e.event.kind}`
    case 'telemetry':
      return `${e.points.length} points`
  }
}
