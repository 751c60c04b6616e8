import { useState } from 'preact/hooks'
import { useEffect } from 'preact/hooks'
import type { JsonObject, Twin } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatJson, formatTime } from '../../components/format.js'
import { toast } from '../../components/toast.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'

/**
 * Desired and reported state side by side; desired is edited as a JSON merge patch sent with
 * `If-Match` on the version it was read at, so a concurrent change is a clear conflict (412) with
 * a reload, never a silent overwrite.
 */
export function TwinPanel({ deviceId }: { readonly deviceId: string }) {
  const { api, live } = useApp()
  const canWrite = useCan('twin:write')
  const twin = useAsync(
    (signal) =>
      api.get<Twin>(`/api/v1/devices/${encodeURIComponent(deviceId)}/twin`, undefined, signal),
    [deviceId],
  )
  const [editing, setEditing] = useState(false)
  const [patch, setPatch] = useState('{\n  \n}')
  const [error, setError] = useState<ApiError | undefined>()
  const [parseError, setParseError] = useState<string | undefined>()
  const [conflict, setConflict] = useState(false)
  const [busy, setBusy] = useState(false)

  // A reported change from the device, or a desired one from someone else, shows at once.
  useEffect(
    () =>
      live.subscribe({ topics: ['twin'], devices: [deviceId] }, () => {
        if (!editing) twin.reload()
      }),
    [live, deviceId, editing],
  )

  const t = twin.data
  const save = () => {
    if (t === undefined) return
    let body: JsonObject
    try {
      const parsed: unknown = JSON.parse(patch)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object')
      body = parsed as JsonObject
      setParseError(undefined)
    } catch (err) {
      setParseError(`The patch is not a JSON object: ${(err as Error).message}`)
      return
    }
    setBusy(true)
    setError(undefined)
    api
      .request(`PATCH`, `/api/v1/devices/${encodeURIComponent(deviceId)}/twin/desired`, {
        body,
        headers: { 'if-match': String(t.desiredVersion) },
      })
      .then(
        () => {
          toast('Desired state saved: the device gets it now, or when it reconnects', 'success')
          setEditing(false)
          setConflict(false)
          twin.reload()
        },
        (err: unknown) => {
          const e = err as ApiError
          if (e.status === 412) setConflict(true)
          else setError(e)
        },
      )
      .finally(() => setBusy(false))
  }

  return (
    <section class="card" aria-labelledby="twin-title">
      <div class="section-head">
        <h2 id="twin-title">Twin</h2>
        {canWrite && t !== undefined && !editing ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit desired
          </button>
        ) : null}
      </div>
      <InlineError error={twin.error} />
      {t === undefined ? null : (
        <div class="twin-grid">
          <div>
            <h3>
              Desired{' '}
              <span class="muted">
                v{t.desiredVersion}, device has v{t.deliveredDesiredVersion}
              </span>
            </h3>
            <pre class="json" data-testid="twin-desired">
              {formatJson(t.desired)}
            </pre>
            <p class="muted">changed {formatTime(t.desiredUpdatedAt)}</p>
          </div>
          <div>
            <h3>
              Reported <span class="muted">v{t.reportedVersion}</span>
            </h3>
            <pre class="json" data-testid="twin-reported">
              {formatJson(t.reported)}
            </pre>
            <p class="muted">changed {formatTime(t.reportedUpdatedAt)}</p>
          </div>
        </div>
      )}
      {editing && t !== undefined ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            save()
          }}
        >
          <label>
            Merge patch for desired (null deletes a property), against version {t.desiredVersion}
            <textarea
              class="mono"
              rows={6}
              value={patch}
              onInput={(e) => setPatch(e.currentTarget.value)}
              spellcheck={false}
            />
          </label>
          {parseError === undefined ? null : (
            <p class="inline-error" role="alert">
              {parseError}
            </p>
          )}
          {conflict ? (
            <div class="inline-error" role="alert">
              Someone changed the desired state since you loaded it (it is no longer version{' '}
              {t.desiredVersion}). Reload to see the new version, then apply your patch again.{' '}
              <button
                type="button"
                onClick={() => {
                  setConflict(false)
                  twin.reload()
                }}
              >
                Reload the twin
              </button>
            </div>
          ) : null}
          <InlineError error={error} />
          <div class="actions">
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Save desired
            </button>
          </div>
        </form>
      ) : null}
    </section>
  )
}
