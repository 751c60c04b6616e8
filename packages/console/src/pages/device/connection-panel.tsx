import { useEffect, useState } from 'preact/hooks'
import type { Device, PresenceStatus } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { formatAgo, formatTime } from '../../components/format.js'

interface Change {
  readonly status: PresenceStatus
  readonly reason: string
  readonly since: number
}

/** The device's connection now, and each change seen while the page is open (from the live feed). */
export function ConnectionPanel({ device }: { readonly device: Device }) {
  const { live } = useApp()
  const p = device.presence
  const [history, setHistory] = useState<readonly Change[]>([
    { status: p.status, reason: p.reason, since: p.since },
  ])
  useEffect(
    () =>
      live.subscribe({ topics: ['presence'], devices: [device.id] }, (e) => {
        if (e.type === 'presence')
          setHistory((h) =>
            [{ status: e.status, reason: e.reason, since: e.since }, ...h].slice(0, 50),
          )
      }),
    [live, device.id],
  )
  const now = history[0] ?? p
  return (
    <section class="card" aria-labelledby="connection-title">
      <h2 id="connection-title">Connection</h2>
      <p>
        <span class={`badge presence-${now.status}`} data-testid="presence">
          {now.status}
        </span>{' '}
        since {formatTime(now.since)} ({now.reason}); last seen {formatAgo(p.lastSeenAt)}
      </p>
      <ol class="events">
        {history.map((c, i) => (
          <li key={i}>
            <time>{formatTime(c.since)}</time> {c.status} <span class="muted">({c.reason})</span>
          </li>
        ))}
      </ol>
    </section>
  )
}
