import { useState } from 'preact/hooks'
import { formText } from '../../components/form-text.js'
import type { ApiClient } from '../../api/api-client.js'
import type { User } from '../../api/types.js'
import { InlineError } from '../../components/error-page.js'
import type { ApiError } from '../../errors.js'

export interface SetupPageProps {
  readonly api: ApiClient
  /** Set up and logged in: the session token of the new admin. */
  onDone: (login: { token: string; expiresAt: number; user: User }) => void
}

/**
 * First run: the node printed a one-time setup token (and wrote it to DATA/setup-token); with it,
 * create the first admin. There is no default password anywhere.
 */
export function SetupPage({ api, onDone }: SetupPageProps) {
  const [error, setError] = useState<ApiError | undefined>()
  const [mismatch, setMismatch] = useState(false)
  const [busy, setBusy] = useState(false)
  return (
    <main class="auth-page" id="main">
      <form
        class="card auth-card"
        aria-labelledby="setup-title"
        onSubmit={(e) => {
          e.preventDefault()
          const f = new FormData(e.currentTarget)
          const text = (k: string) => formText(f, k)
          if (text('password') !== text('confirm')) {
            setMismatch(true)
            return
          }
          setMismatch(false)
          setBusy(true)
          const email = text('email')
          const password = text('password')
          api
            .post('/api/v1/setup', { setupToken: text('setupToken').trim(), email, password })
            .then(() =>
              api.post<{ token: string; expiresAt: number; user: User }>('/api/v1/auth/login', {
                email,
                password,
              }),
            )
            .then(onDone, (err: unknown) => {
              setError(err as ApiError)
              setBusy(false)
            })
        }}
      >
        <h1 id="setup-title">Set up Strata</h1>
        <p>
          This node has no admin yet. <code>strata up</code> printed a one-time setup token on its
          first start (also in <code>DATA/setup-token</code>). Use it to create the first admin.
        </p>
        <label>
          Setup token
          <input
            name="setupToken"
            required
            autoComplete="off"
            spellcheck={false}
            class="mono"
            placeholder="sst_…"
          />
        </label>
        <label>
          Admin email
          <input name="email" type="email" required autoComplete="username" />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            minLength={12}
            autoComplete="new-password"
            aria-describedby="password-help"
          />
        </label>
        <span class="help" id="password-help">
          At least 12 characters.
        </span>
        <label>
          Password again
          <input name="confirm" type="password" required autoComplete="new-password" />
        </label>
        {mismatch ? (
          <p class="inline-error" role="alert">
            The two passwords differ.
          </p>
        ) : null}
        <InlineError error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Create the admin
        </button>
      </form>
    </main>
  )
}
