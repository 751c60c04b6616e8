import { useState } from 'preact/hooks'
import type { AlarmComment, Page } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'

/** An alarm's comments, oldest first, and (with `alarms:manage`) a form to add one. */
export function AlarmComments({
  alarmId,
  reloadKey,
  onAdded,
}: {
  readonly alarmId: string
  readonly reloadKey: number
  onAdded: () => void
}) {
  const { api } = useApp()
  const canManage = useCan('alarms:manage')
  const path = `/api/v1/alarms/${encodeURIComponent(alarmId)}/comments`
  const comments = useAsync(
    (signal) => api.get<Page<AlarmComment>>(path, undefined, signal),
    [alarmId, reloadKey],
  )
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | undefined>()
  const items = comments.data?.items ?? []
  return (
    <section class="card" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments</h2>
      <InlineError error={comments.error} />
      {items.length === 0 && !comments.loading ? <p class="muted">No comments yet.</p> : null}
      <ol class="events" data-testid="alarm-comments">
        {items.map((c) => (
          <li key={c.id}>
            <time>{formatTime(c.at)}</time> <span class="muted">{c.by}</span>
            <p class="comment-text">{c.text}</p>
          </li>
        ))}
      </ol>
      {canManage ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            if (text.trim() === '') return
            setBusy(true)
            setError(undefined)
            api
              .post<AlarmComment>(path, { text: text.trim() })
              .then(
                () => {
                  setText('')
                  onAdded()
                },
                (err: unknown) => setError(err as ApiError),
              )
              .finally(() => setBusy(false))
          }}
        >
          <label>
            Comment
            <textarea
              rows={3}
              maxLength={4096}
              required
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          <InlineError error={error} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Add comment
            </button>
          </div>
        </form>
      ) : null}
    </section>
  )
}
