import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'

const listeners = new Set<() => void>()

function notify(): void {
  for (const l of listeners) l()
}

addEventListener('popstate', notify)

/** Goes to a console path (history API: the node answers index.html for every console path). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return
  if (options.replace === true) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  scrollTo(0, 0)
  notify()
}

export interface Location {
  readonly path: string
  readonly query: URLSearchParams
}

/** The current path and query; re-renders on every navigation. */
export function useLocation(): Location {
  const [, setTick] = useState(0)
  useEffect(() => {
    const l = () => setTick((t) => t + 1)
    listeners.add(l)
    return () => listeners.delete(l)
  }, [])
  return { path: location.pathname, query: new URLSearchParams(location.search) }
}

/** `/devices/:id` against `/devices/pump-7` → `{ id: 'pump-7' }`; undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/').filter(Boolean)
  const a = path.split('/').filter(Boolean)
  if (p.length !== a.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    const want = p[i] as string
    const got = a[i] as string
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got)
      } catch {
        return undefined
      }
    } else if (want !== got) return undefined
  }
  return params
}

interface LinkProps {
  readonly href: string
  readonly children?: ComponentChildren
  readonly class?: string
  readonly 'aria-current'?: 'page' | undefined
}

/** An anchor that navigates inside the console (a modified click opens a tab as usual). */
export function Link({ href, children, ...rest }: LinkProps) {
  return (
    <a
      href={href}
      class={rest.class}
      aria-current={rest['aria-current']}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
        e.preventDefault()
        navigate(href)
      }}
    >
      {children}
    </a>
  )
}
