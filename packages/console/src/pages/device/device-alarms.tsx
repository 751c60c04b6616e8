import type { Alarm, Page } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link } from '../../app/router.js'
import { formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'
import { hasApiRoute } from '../../api/api-routes.js'

/** The device's recent alarms; nothing at all on a node without alarms. */
export function DeviceAlarms({ deviceId }: { readonly deviceId: string }) {
  const { api } = useApp()
  const canRead = useCan('alarms:read')
  const alarms = useAsync(
    async (signal) =>
      canRead && (await hasApiRoute(api, '/api/v1/alarms'))
        ? api.get<Page<Alarm>>('/api/v1/alarms', { device: deviceId, limit: 10 }, signal)
        : undefined,
    [deviceId],
  )
  if (alarms.data === undefined) return null
  return (
    <section class="card" aria-labelledby="alarms-title">
      <div class="section-head">
        <h2 id="alarms-title">Recent alarms</h2>
        <Link href={`/alarms?device=${encodeURIComponent(deviceId)}&status=`}>All its alarms</Link>
      </div>
      {alarms.data.items.length === 0 ? (
        <p class="muted">No alarms.</p>
      ) : (
        <ul class="events">
          {alarms.data.items.map((a) => (
            <li key={a.id}>
              <span class={`sev sev-${a.severity}`}>{a.severity}</span>{' '}
              <Link href={`/alarms/${encodeURIComponent(a.id)}`}>{a.type}</Link> {a.status}{' '}
              <span class="muted">{formatTime(a.raisedAt)}</span> {a.message ?? ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
