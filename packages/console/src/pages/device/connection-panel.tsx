import { useEffect, useState } from 'preact/hooks'
import type { Device, Page, PresenceEvent } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatAgo, formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'

/** How many stored changes the panel shows (the node keeps up to 1,000 per device). */
const historyShown = 20

/**
 * The device's connection now and its connection history: the changes the node stored (newest
 * first), with each change seen on the live feed while the page is open put on top.
 */
export function ConnectionPanel({ device }: { readonly device: Device }) {
  const { api, live } = useApp()
  const p = device.presence
  const [seen, setSeen] = useState<readonly PresenceEvent[]>([])
  const stored = useAsync(
    (signal) =>
      api.get<Page<PresenceEvent>>(
        `/api/v1/devices/${encodeURIComponent(device.id)}/presence-history`,
        { limit: historyShown },
        signal,
      ),
    [api, device.id],
  )
  useEffect(
    () =>
      live.subscribe({ topics: ['presence'], devices: [device.id] }, (e) => {
        if (e.type === 'presence')
          setSeen((h) => [{ status: e.status, reason: e.reason, at: e.since }, ...h].slice(0, 50))
      }),
    [live, device.id],
  )
  const keyOf = (e: PresenceEvent) => `${String(e.at)}:${e.status}:${e.reason}`
  const seenKeys = new Set(seen.map(keyOf))
  const history = [...seen, ...(stored.data?.items ?? []).filter((e) => !seenKeys.has(keyOf(e)))]
  const now = seen[0] ?? { status: p.status, reason: p.reason, at: p.since }
  return (
    <section class="card" aria-labelledby="connection-title">
      <h2 id="connection-title">Connection</h2>
      <p>
        <span class={`badge presence-${now.status}`} data-testid="presence">
          {now.status}
        </span>{' '}
        since {formatTime(now.at)} ({now.reason}); last seen {formatAgo(p.lastSeenAt)}
      </p>
      <InlineError error={stored.error} />
      {history.length === 0 && !stored.loading ? (
        <p class="muted">Never connected.</p>
      ) : (
        <ol class="events" data-testid="presence-history" aria-label="Connection history">
          {history.map((c) => (
            <li key={keyOf(c)}>
              <time>{formatTime(c.at)}</time> {c.status} <span class="muted">({c.reason})</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
