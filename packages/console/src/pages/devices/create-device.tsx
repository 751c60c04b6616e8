import { useState } from 'preact/hooks'
import { formText } from '../../components/form-text.js'
import type { Device } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { SecretOnce } from '../../components/secret-once.js'
import { toast } from '../../components/toast.js'
import type { ApiError } from '../../errors.js'

/** Parses `site=berlin, tier=prod` into labels. */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const part of text.split(',')) {
    const [k, ...v] = part.split('=')
    if (k !== undefined && k.trim() !== '') labels[k.trim()] = v.join('=').trim()
  }
  return labels
}

/**
 * Registers a device and, when the role may, issues its token: shown once, with how the device
 * connects. Without a token, the device gets a certificate from a CSR or provisions with a claim.
 */
export function CreateDevice({ onClose }: { readonly onClose: (created: boolean) => void }) {
  const { api, health } = useApp()
  const canCredentials = useCan('devices:credentials')
  const [error, setError] = useState<ApiError | undefined>()
  const [busy, setBusy] = useState(false)
  const [created, setCreated] = useState<{ device: Device; token?: string } | undefined>()

  if (created !== undefined) {
    const id = created.device.id
    if (created.token === undefined) {
      return (
        <section class="card" aria-labelledby="created-title">
          <h2 id="created-title">Device {id} registered</h2>
          <p>
            It has no credentials yet. Issue a token from its page, give it a certificate from a
            CSR, or let it provision itself with a claim token (<code>strata claims create</code>,
            docs/node.md).
          </p>
          <button type="button" class="primary" onClick={() => onClose(true)}>
            Done
          </button>
        </section>
      )
    }
    return (
      <SecretOnce label={`Token of ${id}`} secret={created.token} onDone={() => onClose(true)}>
        <p>
          The device connects to <code>{health.mqtt.url}</code> (or{' '}
          <code>{health.mqtt.tlsUrl}</code>) with client id and username <code>{id}</code> and this
          token as the password, and publishes to <code>strata/v1/devices/{id}/telemetry</code>{' '}
          (docs/protocol.md).
        </p>
      </SecretOnce>
    )
  }

  return (
    <form
      class="card"
      aria-labelledby="create-title"
      onSubmit={(e) => {
        e.preventDefault()
        const f = new FormData(e.currentTarget)
        const id = formText(f, 'id').trim()
        const name = formText(f, 'name').trim()
        const labels = labelsOf(formText(f, 'labels'))
        const withToken = f.get('token') === 'on'
        setBusy(true)
        setError(undefined)
        api
          .post<Device>('/api/v1/devices', { id, ...(name === '' ? {} : { name }), labels })
          .then(async (device) => {
            toast(`Device ${device.id} registered`, 'success')
            if (!withToken) return setCreated({ device })
            const t = await api.post<{ token: string }>(
              `/api/v1/devices/${encodeURIComponent(id)}/tokens`,
              {},
            )
            setCreated({ device, token: t.token })
          })
          .catch((err: unknown) => {
            setError(err as ApiError)
            setBusy(false)
          })
      }}
    >
      <h2 id="create-title">Register a device</h2>
      <div class="form-grid">
        <label>
          Device id
          <input
            name="id"
            required
            maxLength={64}
            pattern="[A-Za-z0-9._\-]+"
            spellcheck={false}
            autoComplete="off"
            aria-describedby="device-id-help"
          />
          <span class="help" id="device-id-help">
            Letters, digits, . _ - (its MQTT client id and username).
          </span>
        </label>
        <label>
          Name (optional)
          <input name="name" maxLength={200} />
        </label>
        <label>
          Labels (optional)
          <input name="labels" placeholder="site=berlin, tier=prod" spellcheck={false} />
        </label>
      </div>
      {canCredentials ? (
        <label class="check">
          <input type="checkbox" name="token" defaultChecked />
          Issue a device token now (shown once)
        </label>
      ) : null}
      <InlineError error={error} />
      <div class="actions">
        <button type="button" onClick={() => onClose(false)}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          Register
        </button>
      </div>
    </form>
  )
}
