import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

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
