import { useState } from 'preact/hooks'
import type { Role, UserAccount } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { ConfirmDialog, runConfirmed } from '../../components/confirm-dialog.js'
import { InlineError } from '../../components/error-page.js'
import { formatTime } from '../../components/format.js'
import { formText } from '../../components/form-text.js'
import { toast } from '../../components/toast.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'
import { RoleSelect } from './role-select.js'

/** The tenant's users: create one (email, password, role), disable one with a confirmation. */
export function UsersPanel() {
  const { api, principal } = useApp()
  const users = useAsync(
    (signal) => api.get<{ items: UserAccount[] }>('/api/v1/users', undefined, signal),
    [],
  )
  const [creating, setCreating] = useState(false)
  const [error, setError] = useState<ApiError | undefined>()
  const [busy, setBusy] = useState(false)
  const [disabling, setDisabling] = useState<UserAccount | undefined>()
  return (
    <section class="card" aria-labelledby="users-title">
      <div class="section-head">
        <h2 id="users-title">Users</h2>
        {creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            Add a user
          </button>
        )}
      </div>
      {creating ? (
        <form
          class="subform"
          aria-label="Add a user"
          onSubmit={(e) => {
            e.preventDefault()
            const f = new FormData(e.currentTarget)
            setBusy(true)
            setError(undefined)
            api
              .post<UserAccount>('/api/v1/users', {
                email: formText(f, 'email').trim(),
                password: formText(f, 'password'),
                role: formText(f, 'role') as Role,
              })
              .then(
                (u) => {
                  toast(`User ${u.email} added as ${u.role}`, 'success')
                  setCreating(false)
                  users.reload()
                },
                (err: unknown) => setError(err as ApiError),
              )
              .finally(() => setBusy(false))
          }}
        >
          <div class="form-grid">
            <label>
              Email
              <input name="email" type="email" required autoComplete="off" />
            </label>
            <label>
              Initial password
              <input
                name="password"
                type="password"
                required
                minLength={12}
                autoComplete="new-password"
              />
              <span class="help">
                12 characters at least; give it to them over another channel.
              </span>
            </label>
            <RoleSelect name="role" value="operator" />
          </div>
          <InlineError error={error} />
          <div class="actions">
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Add user
            </button>
          </div>
        </form>
      ) : null}
      <InlineError error={users.error} />
      <table class="compact">
        <caption class="sr-only">Users</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(users.data?.items ?? []).map((u) => (
            <tr key={u.id}>
              <td>
                {u.email}
                {u.platformAdmin ? <span class="tag">platform admin</span> : null}
                {u.id === principal.id ? <span class="tag">you</span> : null}
              </td>
              <td>{u.role}</td>
              <td>{formatTime(u.createdAt)}</td>
              <td>
                {u.disabledAt === null ? (
                  <span class="badge state-active">active</span>
                ) : (
                  <span class="badge state-disabled">disabled {formatTime(u.disabledAt)}</span>
                )}
              </td>
              <td>
                {u.disabledAt === null && u.id !== principal.id ? (
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Disable ${u.email}`}
                    onClick={() => setDisabling(u)}
                  >
                    Disable
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {disabling === undefined ? null : (
        <ConfirmDialog
          open
          title="Disable this user?"
          confirmLabel="Disable user"
          danger
          busy={busy}
          onCancel={() => setDisabling(undefined)}
          onConfirm={() =>
            runConfirmed(
              setBusy,
              () => setDisabling(undefined),
              async () => {
                const u = await api.post<UserAccount>(
                  `/api/v1/users/${encodeURIComponent(disabling.id)}/disable`,
                )
                users.reload()
                return `User ${u.email} disabled`
              },
            )
          }
        >
          <p>
            <strong>{disabling.email}</strong> can no longer log in, and their sessions end now.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}
