import { useEffect, useState } from 'preact/hooks'
import type { LiveStatus } from '../api/live-feed.js'
import { ErrorPage } from '../components/error-page.js'
import { ToastHost } from '../components/toast.js'
import { NotFoundPage } from '../pages/not-found/not-found-page.js'
import { can } from '../session/permissions.js'
import { useApp } from './app-context.js'
import { Link, matchPath, useLocation } from './router.js'
import { routes } from './routes.js'

/** The logged-in frame: navigation, who is logged in, the live feed's state, and the page. */
export function Shell() {
  const app = useApp()
  const { path } = useLocation()
  const [live, setLive] = useState<LiveStatus>(app.live.status)
  useEffect(() => app.live.onStatus(setLive), [app.live])
  let page = <NotFoundPage path={path} />
  for (const route of routes) {
    const params = matchPath(route.path, path)
    if (params === undefined) continue
    page =
      route.needs !== undefined && !can(app.principal, route.needs) ? (
        <ErrorPage
          title="Not allowed"
          message={`Your role (${app.principal.role}) may not open this page: it needs ${route.needs}.`}
          code="CLOUD_FORBIDDEN"
        />
      ) : (
        route.render(params)
      )
    break
  }
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to the page
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          Strata
        </Link>
        <nav aria-label="Main">
          <ul>
            {routes
              .filter(
                (r) =>
                  r.nav !== undefined && (r.needs === undefined || can(app.principal, r.needs)),
              )
              .map((r) => {
                const current =
                  r.path === '/' ? path === '/' : path === r.path || path.startsWith(`${r.path}/`)
                return (
                  <li key={r.path}>
                    <Link href={r.path} aria-current={current ? 'page' : undefined}>
                      {r.nav}
                      {r.comingWith === undefined ? null : (
                        <span class="tag">with {r.comingWith}</span>
                      )}
                    </Link>
                  </li>
                )
              })}
          </ul>
        </nav>
        <div class="who">
          <span class={`live-dot live-${live}`} role="status" title={`Live feed: ${live}`}>
            <span class="sr-only">Live feed: {live}</span>
            <span class="live-word" aria-hidden="true">
              {live}
            </span>
          </span>
          <span>
            <span class="who-label" title={app.label}>
              {app.label}
            </span>{' '}
            <span class="tag">{app.principal.role}</span>
          </span>
          <button type="button" onClick={app.logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <ToastHost />
    </div>
  )
}
