import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { ApiClient } from '../api/api-client.js'
import { LiveFeed } from '../api/live-feed.js'
import type { Health, Principal } from '../api/types.js'
import { ApiErrorPage } from '../components/error-page.js'
import type { ApiError } from '../errors.js'
import { LoginPage } from '../pages/login/login-page.js'
import { SetupPage } from '../pages/setup/setup-page.js'
import {
  clearSession,
  loadSession,
  saveSession,
  type StoredSession,
} from '../session/session-store.js'
import { AppContextValue, type AppContext } from './app-context.js'
import { navigate } from './router.js'
import { Shell } from './shell.js'

type State =
  | { readonly kind: 'starting' }
  | { readonly kind: 'down'; readonly error: ApiError }
  | { readonly kind: 'setup'; readonly health: Health }
  | { readonly kind: 'login'; readonly health: Health; readonly notice?: string }
  | {
      readonly kind: 'ready'
      readonly health: Health
      readonly session: StoredSession
      readonly principal: Principal
      readonly live: LiveFeed
    }

/**
 * The console: asks the node whether it still waits for its first admin, then shows setup, login,
 * or the logged-in shell. A 401 on any call (the session expired or was revoked) comes back here
 * and shows the login page with a message.
 */
export function App() {
  const [state, setState] = useState<State>({ kind: 'starting' })
  const token = useRef<string | undefined>(loadSession()?.token)
  const stateRef = useRef(state)
  stateRef.current = state

  const api = useMemo(
    () =>
      new ApiClient({
        token: () => token.current,
        onSessionEnded: () =>
          endSession('Your session has ended (expired or revoked). Log in again.'),
      }),
    [],
  )

  function endSession(notice: string | undefined): void {
    const s = stateRef.current
    if (s.kind === 'ready') s.live.close()
    token.current = undefined
    clearSession()
    if (s.kind === 'ready' || s.kind === 'login')
      setState({ kind: 'login', health: s.health, ...(notice === undefined ? {} : { notice }) })
  }

  async function enter(health: Health, session: StoredSession): Promise<void> {
    token.current = session.token
    const principal = await api.get<Principal>('/api/v1/me')
    saveSession(session)
    setState({ kind: 'ready', health, session, principal, live: new LiveFeed(session.token) })
  }

  async function start(): Promise<void> {
    setState({ kind: 'starting' })
    try {
      const health = await api.get<Health>('/api/v1/health')
      if (health.setupPending) {
        setState({ kind: 'setup', health })
        return
      }
      const stored = loadSession()
      if (stored === undefined) {
        setState({ kind: 'login', health })
        return
      }
      await enter(health, stored).catch(() => {
        clearSession()
        setState({ kind: 'login', health, notice: 'Your session has ended. Log in again.' })
      })
    } catch (err) {
      setState({ kind: 'down', error: err as ApiError })
    }
  }

  useEffect(() => {
    void start()
  }, [])

  // A session that expires while the console is open goes back to login at its expiry.
  useEffect(() => {
    if (state.kind !== 'ready' || state.session.expiresAt === null) return
    const t = setTimeout(
      () => endSession('Your session expired. Log in again.'),
      Math.max(0, Math.min(state.session.expiresAt - Date.now(), 2 ** 31 - 1)),
    )
    return () => clearTimeout(t)
  }, [state])

  switch (state.kind) {
    case 'starting':
      return <p class="starting">Connecting to the node…</p>
    case 'down':
      return (
        <main id="main" class="auth-page">
          <ApiErrorPage error={state.error} onRetry={() => void start()} />
        </main>
      )
    case 'setup':
      return (
        <SetupPage
          api={api}
          onDone={(login) => {
            navigate('/', { replace: true })
            void enter(state.health, {
              token: login.token,
              expiresAt: login.expiresAt,
              label: login.user.email,
            })
          }}
        />
      )
    case 'login':
      return (
        <LoginPage
          api={api}
          notice={state.notice}
          onLogin={(session) =>
            void enter(state.health, session).catch((err: unknown) =>
              setState({ kind: 'down', error: err as ApiError }),
            )
          }
        />
      )
    case 'ready': {
      const ctx: AppContext = {
        api,
        live: state.live,
        principal: state.principal,
        label: state.session.label,
        health: state.health,
        logout: () => {
          void api.post('/api/v1/auth/logout').catch(() => undefined)
          endSession('You are logged out.')
        },
      }
      return (
        <AppContextValue.Provider value={ctx}>
          <Shell />
        </AppContextValue.Provider>
      )
    }
  }
}
