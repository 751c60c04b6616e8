import type { AlarmHistoryEntry, JsonObject, Page } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'

/** What an entry's details say, in words: "critical → error", "×12", the comment. */
function describe(e: AlarmHistoryEntry): string {
  const d: JsonObject = e.details
  const str = (k: string) =>
    typeof d[k] === 'string' || typeof d[k] === 'number' ? String(d[k]) : undefined
  switch (e.kind) {
    case 'raised':
      return [str('severity'), str('message')].filter(Boolean).join(': ')
    case 'escalated':
      return `${str('from') ?? '?'} → ${str('to') ?? '?'}`
    case 're-raised':
      return `${str('repeats') ?? '?'} more times (${str('count') ?? '?'} in all)`
    case 'commented':
      return str('text') ?? ''
    default:
      return str('comment') ?? ''
  }
}

/** The alarm's history, newest first (the latest 100 changes). */
export function AlarmHistory({
  alarmId,
  reloadKey,
}: {
  readonly alarmId: string
  readonly reloadKey: number
}) {
  const { api } = useApp()
  const history = useAsync(
    (signal) =>
      api.get<Page<AlarmHistoryEntry>>(
        `/api/v1/alarms/${encodeURIComponent(alarmId)}/history`,
        { limit: 100 },
        signal,
      ),
    [alarmId, reloadKey],
  )
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <InlineError error={history.error} />
      <ol class="events" data-testid="alarm-history">
        {(history.data?.items ?? []).map((e) => (
          <li key={e.seq}>
            <time>{formatTime(e.at)}</time> <strong>{e.kind}</strong>{' '}
            <span class="muted">by {e.by}</span> {describe(e)}
          </li>
        ))}
      </ol>
    </section>
  )
}
