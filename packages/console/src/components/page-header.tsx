import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'

/** The page's h1 and actions; also sets the document title. */
export function PageHeader({
  title,
  children,
}: {
  readonly title: string
  readonly children?: ComponentChildren
}) {
  useEffect(() => {
    document.title = `${title} · Strata`
  }, [title])
  return (
    <header class="page-header">
      <h1 id="page-title">{title}</h1>
      {children === undefined ? null : <div class="actions">{children}</div>}
    </header>
  )
}
