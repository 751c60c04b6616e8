import { useState } from 'preact/hooks'
import { formText } from '../../components/form-text.js'
import type { ApiClient } from '../../api/api-client.js'
import type { User } from '../../api/types.js'
import type { ApiError } from '../../errors.js'

export interface LoginPageProps {
  readonly api: ApiClient
  /** Why the user is here again (the session expired). */
  readonly notice?: string | undefined
  onLogin: (login: { token: string; expiresAt: number | null; label: string }) => void
}

/** Log in with email and password, or with an API token (for a token's role, e.g. a viewer). */
export function LoginPage({ api, notice, onLogin }: LoginPageProps) {
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const [withToken, setWithToken] = useState(false)
  const fail = (err: unknown) => {
    const e = err as ApiError
    setError(
      e.status === 401
        ? withToken
          ? 'That API token is not valid (wrong, revoked or expired).'
          : 'Wrong email or password.'
        : e.status === 429
          ? 'Too many attempts: wait a minute and try again.'
          : e.message,
    )
    setBusy(false)
  }
  return (
    <main class="auth-page" id="main">
      <form
        class="card auth-card"
        aria-labelledby="login-title"
        onSubmit={(e) => {
          e.preventDefault()
          const f = new FormData(e.currentTarget)
          setBusy(true)
          setError(undefined)
          if (withToken) {
            const token = formText(f, 'token').trim()
            api
              .request('GET', '/api/v1/me', { headers: { authorization: `Bearer ${token}` } })
              .then(() => onLogin({ token, expiresAt: null, label: 'API token' }), fail)
            return
          }
          const email = formText(f, 'email')
          api
            .post<{ token: string; expiresAt: number; user: User }>('/api/v1/auth/login', {
              email,
              password: formText(f, 'password'),
            })
            .then(
              (r) => onLogin({ token: r.token, expiresAt: r.expiresAt, label: r.user.email }),
              fail,
            )
        }}
      >
        <h1 id="login-title">Log in to Strata</h1>
        {notice === undefined ? null : (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {withToken ? (
          <label>
            API token
            <input name="token" type="password" required autoComplete="off" class="mono" />
          </label>
        ) : (
          <>
            <label>
              Email
              <input name="email" type="email" required autoComplete="username" />
            </label>
            <label>
              Password
              <input name="password" type="password" required autoComplete="current-password" />
            </label>
          </>
        )}
        {error === undefined ? null : (
          <p class="inline-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
        <button
          type="button"
          class="link"
          onClick={() => {
            setWithToken(!withToken)
            setError(undefined)
          }}
        >
          {withToken ? 'Log in with email and password' : 'Use an API token instead'}
        </button>
      </form>
    </main>
  )
}
