/**
 * The session token lives in memory and in sessionStorage (this tab only, gone when it closes),
 * never in localStorage or a cookie.
 */
export interface StoredSession {
  readonly token: string
  /** Epoch ms, or null for an API token without expiry. */
  readonly expiresAt: number | null
  /** Who it is, for the header: an email, or "API token". */
  readonly label: string
}

const key = 'strata.console.session'

export function loadSession(): StoredSession | undefined {
  try {
    const text = sessionStorage.getItem(key)
    if (text === null) return undefined
    const s = JSON.parse(text) as Partial<StoredSession>
    if (typeof s.token !== 'string' || typeof s.label !== 'string') return undefined
    if (typeof s.expiresAt === 'number' && s.expiresAt <= Date.now()) return undefined
    return {
      token: s.token,
      expiresAt: typeof s.expiresAt === 'number' ? s.expiresAt : null,
      label: s.label,
    }
  } catch {
    return undefined
  }
}

export function saveSession(session: StoredSession): void {
  sessionStorage.setItem(key, JSON.stringify(session))
}

export function clearSession(): void {
  sessionStorage.removeItem(key)
}
