import { useState } from 'preact/hooks'
import type { Alarm } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { ConfirmDialog, runConfirmed } from '../../components/confirm-dialog.js'

export const alarmHref = (id: string) => `/alarms/${encodeURIComponent(id)}`

/**
 * Acknowledge (an active alarm) and clear (an open one, behind a confirmation with an optional
 * comment), for roles with `alarms:manage`; nothing for the others. A 409 (someone else got there
 * first) is a toast, and the caller reloads.
 */
export function AlarmActions({
  alarm,
  onChanged,
}: {
  readonly alarm: Alarm
  onChanged: (alarm: Alarm) => void
}) {
  const { api } = useApp()
  const canManage = useCan('alarms:manage')
  const [clearing, setClearing] = useState(false)
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState(false)
  if (!canManage || alarm.status === 'cleared') return null
  const what = `${alarm.type} on ${alarm.deviceId}`
  const act = (verb: 'acknowledge' | 'clear', body: { comment?: string }) => {
    const done = () => {
      setClearing(false)
      setComment('')
    }
    runConfirmed(setBusy, done, async () => {
      const a = await api.post<Alarm>(
        `/api/v1/alarms/${encodeURIComponent(alarm.id)}/${verb}`,
        body,
      )
      onChanged(a)
      return `Alarm ${what} ${a.status}`
    })
  }
  return (
    <span class="row-actions">
      {alarm.status === 'active' ? (
        <button
          type="button"
          disabled={busy}
          aria-label={`Acknowledge ${what}`}
          onClick={() => act('acknowledge', {})}
        >
          Acknowledge
        </button>
      ) : null}
      <button
        type="button"
        class="danger"
        disabled={busy}
        aria-label={`Clear ${what}`}
        onClick={() => setClearing(true)}
      >
        Clear
      </button>
      {clearing ? (
        <ConfirmDialog
          open
          title="Clear this alarm?"
          confirmLabel="Clear alarm"
          danger
          busy={busy}
          onCancel={() => setClearing(false)}
          onConfirm={() => act('clear', comment.trim() === '' ? {} : { comment: comment.trim() })}
        >
          <p>
            <strong>{what}</strong> ({alarm.severity}) is closed. If it is raised again, that is a
            new alarm.
          </p>
          <label>
            Comment (optional)
            <textarea
              rows={2}
              maxLength={4096}
              value={comment}
              onInput={(e) => setComment(e.currentTarget.value)}
            />
          </label>
        </ConfirmDialog>
      ) : null}
    </span>
  )
}
