import { useEffect, useState } from 'preact/hooks'

export type ToastKind = 'info' | 'success' | 'error'

interface Toast {
  readonly id: number
  readonly kind: ToastKind
  readonly text: string
}

const listeners = new Set<(toasts: readonly Toast[]) => void>()
let toasts: readonly Toast[] = []
let nextId = 1

function publish(next: readonly Toast[]): void {
  toasts = next
  for (const l of listeners) l(toasts)
}

/** Shows a short message in the corner for a few seconds (errors stay until dismissed). */
export function toast(text: string, kind: ToastKind = 'info'): void {
  const id = nextId++
  publish([...toasts.slice(-4), { id, kind, text }])
  if (kind !== 'error') setTimeout(() => dismiss(id), 5000)
}

function dismiss(id: number): void {
  publish(toasts.filter((t) => t.id !== id))
}

/** Where toasts appear; announced to screen readers as they come. */
export function ToastHost() {
  const [list, setList] = useState(toasts)
  useEffect(() => {
    listeners.add(setList)
    return () => listeners.delete(setList)
  }, [])
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
