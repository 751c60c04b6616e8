import { useState } from 'preact/hooks'
import type { ApiToken, Role } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { ConfirmDialog, runConfirmed } from '../../components/confirm-dialog.js'
import { InlineError } from '../../components/error-page.js'
import { formatAgo, formatTime } from '../../components/format.js'
import { formText } from '../../components/form-text.js'
import { SecretOnce } from '../../components/secret-once.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'
import { RoleSelect } from './role-select.js'

function statusOf(t: ApiToken, now = Date.now()): 'revoked' | 'expired' | 'active' {
  if (t.revokedAt !== null) return 'revoked'
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired'
  return 'active'
}

/**
 * The tenant's API tokens (for scripts, the CLI, a wall screen): create one with a role and an
 * expiry (its secret is shown once: the node keeps only its hash), revoke one with a confirmation.
 */
export function TokensPanel() {
  const { api, principal } = useApp()
  const tokens = useAsync(
    (signal) => api.get<{ items: ApiToken[] }>('/api/v1/tokens', undefined, signal),
    [],
  )
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<{ token: string; apiToken: ApiToken } | undefined>()
  const [error, setError] = useState<ApiError | undefined>()
  const [busy, setBusy] = useState(false)
  const [revoking, setRevoking] = useState<ApiToken | undefined>()
  return (
    <section class="card" aria-labelledby="tokens-title">
      <div class="section-head">
        <h2 id="tokens-title">API tokens</h2>
        {creating || created !== undefined ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            Create a token
          </button>
        )}
      </div>
      {created === undefined ? null : (
        <SecretOnce
          label={`API token ${created.apiToken.name}`}
          secret={created.token}
          onDone={() => setCreated(undefined)}
        >
          <p>
            Send it as <code>Authorization: Bearer …</code>, give it to the CLI as{' '}
            <code>STRATA_TOKEN</code>, or log in to the console with it. It has the role{' '}
            <strong>{created.apiToken.role}</strong>
            {created.apiToken.expiresAt === null
              ? ' and does not expire'
              : ` until ${formatTime(created.apiToken.expiresAt)}`}
            .
          </p>
        </SecretOnce>
      )}
      {creating ? (
        <form
          class="subform"
          aria-label="Create an API token"
          onSubmit={(e) => {
            e.preventDefault()
            const f = new FormData(e.currentTarget)
            const days = Number(formText(f, 'days'))
            setBusy(true)
            setError(undefined)
            api
              .post<{ token: string; apiToken: ApiToken }>('/api/v1/tokens', {
                name: formText(f, 'name').trim(),
                role: formText(f, 'role') as Role,
                ...(days > 0 ? { expiresInDays: days } : {}),
              })
              .then(
                (res) => {
                  setCreating(false)
                  setCreated(res)
                  tokens.reload()
                },
                (err: unknown) => setError(err as ApiError),
              )
              .finally(() => setBusy(false))
          }}
        >
          <div class="form-grid">
            <label>
              Token name
              <input name="name" required maxLength={200} placeholder="wall screen, CI, …" />
            </label>
            <RoleSelect name="role" value="viewer" />
            <label>
              Expires in (days)
              <input name="days" type="number" min={0} max={3650} defaultValue="90" />
              <span class="help">0 for never.</span>
            </label>
          </div>
          <InlineError error={error} />
          <div class="actions">
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Create token
            </button>
          </div>
        </form>
      ) : null}
      <InlineError error={tokens.error} />
      <table class="compact">
        <caption class="sr-only">API tokens</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(tokens.data?.items ?? []).map((t) => {
            const status = statusOf(t)
            return (
              <tr key={t.id} data-token={t.name}>
                <td>
                  {t.name}
                  {t.id === principal.id ? <span class="tag">this session</span> : null}
                </td>
                <td>{t.role}</td>
                <td>{formatTime(t.createdAt)}</td>
                <td>{t.expiresAt === null ? 'never' : formatTime(t.expiresAt)}</td>
                <td>{formatAgo(t.lastUsedAt)}</td>
                <td>
                  <span class={`badge token-${status}`} data-testid="token-status">
                    {status}
                  </span>
                </td>
                <td>
                  {status === 'active' ? (
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Revoke ${t.name}`}
                      onClick={() => setRevoking(t)}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {revoking === undefined ? null : (
        <ConfirmDialog
          open
          title="Revoke this API token?"
          confirmLabel="Revoke token"
          danger
          busy={busy}
          onCancel={() => setRevoking(undefined)}
          onConfirm={() =>
            runConfirmed(
              setBusy,
              () => setRevoking(undefined),
              async () => {
                const t = await api.delete<ApiToken>(
                  `/api/v1/tokens/${encodeURIComponent(revoking.id)}`,
                )
                tokens.reload()
                return `Token ${t.name} revoked`
              },
            )
          }
        >
          <p>
            <strong>{revoking.name}</strong> ({revoking.role}) stops working now: API calls are
            refused and its live feed connections close within a minute.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}
