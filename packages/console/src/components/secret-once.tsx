import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'

export interface SecretOnceProps {
  readonly label: string
  readonly secret: string
  readonly children?: ComponentChildren
  onDone: () => void
}

/**
 * A secret the node shows once (a device or API token): selectable, copyable, and a warning that
 * it cannot be shown again. The node keeps only its hash.
 */
export function SecretOnce({ label, secret, children, onDone }: SecretOnceProps) {
  const [copied, setCopied] = useState(false)
  return (
    <section class="secret-once" aria-labelledby="secret-once-title">
      <h3 id="secret-once-title">{label}</h3>
      <p class="warning">Copy it now: it is shown once and cannot be shown again.</p>
      <div class="secret-row">
        <input
          type="text"
          readOnly
          class="mono"
          aria-label={label}
          value={secret}
          data-secret
          onFocus={(e) => e.currentTarget.select()}
        />
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard.writeText(secret).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      {children}
      <div class="actions">
        <button type="button" class="primary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </section>
  )
}
