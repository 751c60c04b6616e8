import type { ComponentChildren } from 'preact'
import type { ApiError } from '../errors.js'
import { Link } from '../app/router.js'

export interface ErrorPageProps {
  readonly title: string
  readonly message: string
  readonly code?: string | undefined
  readonly hint?: string | undefined
  readonly children?: ComponentChildren
}

/** A whole page that says what went wrong and what to do: 404, 403, the node down, a bad reply. */
export function ErrorPage({ title, message, code, hint, children }: ErrorPageProps) {
  return (
    <section class="error-page" role="alert" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      <p>{message}</p>
      {hint === undefined ? null : <p class="hint">{hint}</p>}
      {code === undefined ? null : (
        <p class="muted">
          Error code <code>{code}</code> (docs/errors.md)
        </p>
      )}
      <div class="actions">
        {children}
        <Link href="/">Back to the overview</Link>
      </div>
    </section>
  )
}

/** The error page for a failed API call, by its status. */
export function ApiErrorPage({
  error,
  onRetry,
}: {
  readonly error: ApiError
  onRetry?: () => void
}) {
  const title =
    error.status === 0
      ? 'The node does not answer'
      : error.status === 403
        ? 'Not allowed'
        : error.status === 404
          ? 'Not found'
          : `Something went wrong (HTTP ${error.status})`
  const message =
    error.status === 403 ? `Your role may not do this. ${error.message}` : error.message
  return (
    <ErrorPage title={title} message={message} code={error.code} hint={error.hint}>
      {onRetry === undefined ? null : (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </ErrorPage>
  )
}

/** An error inside a panel of a page (the rest of the page still works). */
export function InlineError({ error }: { readonly error: ApiError | undefined }) {
  if (error === undefined) return null
  return (
    <p class="inline-error" role="alert">
      {error.message}
      {error.hint === undefined ? null : <span class="hint"> {error.hint}</span>}
    </p>
  )
}
