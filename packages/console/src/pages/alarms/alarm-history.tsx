import { useEffect, useRef, useState } from 'preact/hooks'
import type { AlarmHistoryEntry, JsonObject, Page } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'

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

const pageSize = 100

/** Older pages loaded with "Show older changes", after the first one. */
interface Older {
  readonly items: readonly AlarmHistoryEntry[]
  readonly cursor: string | null
  readonly loading: boolean
  readonly error?: ApiError | undefined
}

/**
 * The alarm's history, newest first: the latest 100 changes, then older ones a page at a time.
 * A change to the alarm (`reloadKey`) starts again from the newest.
 */
export function AlarmHistory({
  alarmId,
  reloadKey,
}: {
  readonly alarmId: string
  readonly reloadKey: number
}) {
  const { api } = useApp()
  const path = `/api/v1/alarms/${encodeURIComponent(alarmId)}/history`
  const history = useAsync(
    (signal) => api.get<Page<AlarmHistoryEntry>>(path, { limit: pageSize }, signal),
    [alarmId, reloadKey],
  )
  const [older, setOlder] = useState<Older | undefined>(undefined)
  // Bumped when the history starts again, so that an older page still loading is dropped.
  const generation = useRef(0)
  useEffect(() => {
    generation.current++
    setOlder(undefined)
  }, [alarmId, reloadKey])
  const cursor = older === undefined ? (history.data?.nextCursor ?? null) : older.cursor
  const loadOlder = () => {
    if (cursor === null) return
    const before = older?.items ?? []
    const started = generation.current
    const keep = (next: Older) => {
      if (generation.current === started) setOlder(next)
    }
    setOlder({ items: before, cursor, loading: true })
    api.get<Page<AlarmHistoryEntry>>(path, { limit: pageSize, cursor }).then(
      (page) =>
        keep({ items: [...before, ...page.items], cursor: page.nextCursor, loading: false }),
      (error: unknown) => keep({ items: before, cursor, loading: false, error: error as ApiError }),
    )
  }
  const entries = [...(history.data?.items ?? []), ...(older?.items ?? [])]
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <InlineError error={history.error} />
      <ol class="events" data-testid="alarm-history">
        {entries.map((e) => (
          <li key={e.seq}>
            <time>{formatTime(e.at)}</time> <strong>{e.kind}</strong>{' '}
            <span class="muted">by {e.by}</span> {describe(e)}
          </li>
        ))}
      </ol>
      <InlineError error={older?.error} />
      {cursor === null ? null : (
        <button type="button" onClick={loadOlder} disabled={older?.loading === true}>
          Show older changes
        </button>
      )}
    </section>
  )
}
