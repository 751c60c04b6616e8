import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { ApiClient } from '../api/api-client.js'
import type { LiveFeed } from '../api/live-feed.js'
import type { Health, Principal } from '../api/types.js'
import { can as canDo, type Permission } from '../session/permissions.js'

/** What every page of a logged-in console gets. */
export interface AppContext {
  readonly api: ApiClient
  readonly live: LiveFeed
  readonly principal: Principal
  readonly label: string
  readonly health: Health
  readonly logout: () => void
}

export const AppContextValue = createContext<AppContext | undefined>(undefined)

export function useApp(): AppContext {
  const ctx = useContext(AppContextValue)
  if (ctx === undefined) throw new Error('useApp outside the logged-in shell')
  return ctx
}

/** Whether the logged-in role may do something (to hide what the API would refuse anyway). */
export function useCan(permission: Permission): boolean {
  return canDo(useApp().principal, permission)
}
