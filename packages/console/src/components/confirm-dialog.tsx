import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import type { ApiError } from '../errors.js'
import { toast } from './toast.js'

export interface ConfirmDialogProps {
  readonly open: boolean
  readonly title: string
  readonly children?: ComponentChildren
  readonly confirmLabel: string
  /** A destructive action: the confirm button is red. */
  readonly danger?: boolean
  readonly busy?: boolean
  onConfirm: () => void
  onCancel: () => void
}

/**
 * A modal question before an action that cannot be taken back. A native `<dialog>`: focus moves
 * into it and stays there, Escape cancels, focus returns where it was.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d === null) return
    if (props.open && !d.open) d.showModal()
    if (!props.open && d.open) d.close()
  }, [props.open])
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault()
        props.onCancel()
      }}
    >
      <h2 id="confirm-title">{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger === true ? 'danger' : 'primary'}
          disabled={props.busy === true}
          onClick={props.onConfirm}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  )
}

/**
 * Runs an action the user confirmed: `setBusy(true)` while it runs; the sentence it resolves with
 * as a success toast, or its error's message as an error toast; then `setBusy(false)` and `done`
 * (the dialog closes) either way.
 *
 * @example
 * onConfirm={() => runConfirmed(setBusy, () => setRevoking(undefined), async () => {
 *   const t = await api.delete<ApiToken>(`/api/v1/tokens/${id}`)
 *   tokens.reload()
 *   return `Token ${t.name} revoked`
 * })}
 */
export function runConfirmed(
  setBusy: (busy: boolean) => void,
  done: () => void,
  action: () => Promise<string>,
): void {
  setBusy(true)
  action()
    .then(
      (message) => toast(message, 'success'),
      (err: unknown) => toast((err as ApiError).message, 'error'),
    )
    .finally(() => {
      setBusy(false)
      done()
    })
}
