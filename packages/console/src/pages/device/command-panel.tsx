import { useEffect, useState } from 'preact/hooks'
import { formText } from '../../components/form-text.js'
import type { Command, JsonObject, Page } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatJson, formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'

/** Send a command, and follow it and the recent ones live: status, result or error. */
export function CommandPanel({ deviceId }: { readonly deviceId: string }) {
  const { api, live } = useApp()
  const canSend = useCan('commands:send')
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/commands`
  const list = useAsync((signal) => api.get<Page<Command>>(path, { limit: 10 }, signal), [deviceId])
  const [error, setError] = useState<ApiError | undefined>()
  const [inputError, setInputError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)

  useEffect(
    () => live.subscribe({ topics: ['commands'], devices: [deviceId] }, () => list.reload()),
    [live, deviceId],
  )

  return (
    <section class="card" aria-labelledby="commands-title">
      <h2 id="commands-title">Commands</h2>
      {canSend ? (
        <form
          class="command-form"
          onSubmit={(e) => {
            e.preventDefault()
            const f = new FormData(e.currentTarget)
            let params: JsonObject = {}
            const text = formText(f, 'params').trim()
            try {
              if (text !== '') params = JSON.parse(text) as JsonObject
            } catch (err) {
              setInputError(`Params are not JSON: ${(err as Error).message}`)
              return
            }
            setInputError(undefined)
            setBusy(true)
            setError(undefined)
            api
              .post<Command>(path, {
                name: formText(f, 'name').trim(),
                params,
                timeoutS: Number(f.get('timeoutS') ?? 300),
              })
              .then(
                () => list.reload(),
                (err: unknown) => setError(err as ApiError),
              )
              .finally(() => setBusy(false))
          }}
        >
          <label>
            Command
            <input
              name="name"
              required
              maxLength={128}
              pattern="[A-Za-z0-9._\-]+"
              placeholder="reboot"
              spellcheck={false}
            />
          </label>
          <label class="grow">
            Params (JSON object)
            <input name="params" class="mono" placeholder='{"delayS": 5}' spellcheck={false} />
          </label>
          <label>
            Timeout (s)
            <input name="timeoutS" type="number" min={1} defaultValue="300" />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Send
          </button>
        </form>
      ) : null}
      {inputError === undefined ? null : (
        <p class="inline-error" role="alert">
          {inputError}
        </p>
      )}
      <InlineError error={error ?? list.error} />
      <table class="compact">
        <caption class="sr-only">Recent commands</caption>
        <thead>
          <tr>
            <th scope="col">Command</th>
            <th scope="col">Status</th>
            <th scope="col">Sent</th>
            <th scope="col">Reply</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((c) => (
            <tr key={c.id} data-command-id={c.id} data-status={c.status}>
              <td>
                <code>{c.name}</code>
              </td>
              <td>
                <span class={`badge cmd-${c.status}`}>{c.status}</span>
              </td>
              <td>{formatTime(c.createdAt)}</td>
              <td>
                {c.result !== null ? (
                  <pre class="json small" tabIndex={0} data-testid="command-result">
                    {formatJson(c.result)}
                  </pre>
                ) : c.error !== null ? (
                  <span class="inline-error">
                    {c.error.code}: {c.error.message}
                  </span>
                ) : (
                  <span class="muted">{c.statusReason === '' ? '—' : c.statusReason}</span>
                )}
              </td>
            </tr>
          ))}
          {list.data?.items.length === 0 ? (
            <tr>
              <td colSpan={4} class="muted">
                No commands yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  )
}
