import { useState } from 'preact/hooks'
import type { Device } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { ConfirmDialog, runConfirmed } from '../../components/confirm-dialog.js'

type Action = 'approve' | 'disable' | 'enable' | 'revoke'

const questions: Readonly<Record<Action, { title: string; body: string; danger: boolean }>> = {
  approve: { title: 'Approve this device?', body: 'It may connect and send data.', danger: false },
  enable: {
    title: 'Enable this device?',
    body: 'It may connect again with its credentials.',
    danger: false,
  },
  disable: {
    title: 'Disable this device?',
    body: 'Its live session is cut now and it is refused until someone enables it again.',
    danger: true,
  },
  revoke: {
    title: 'Revoke this device for good?',
    body: 'Final: every credential is voided and its live session cut. A revoked device cannot be enabled again.',
    danger: true,
  },
}

/** Lifecycle buttons that fit the device's state and the role, each behind a confirmation. */
export function DeviceActions({
  device,
  onChanged,
}: {
  readonly device: Device
  onChanged: (d: Device) => void
}) {
  const { api } = useApp()
  const canWrite = useCan('devices:write')
  const canRevoke = useCan('devices:revoke')
  const [pending, setPending] = useState<Action | undefined>()
  const [busy, setBusy] = useState(false)
  const available: Action[] = []
  if (canWrite && device.state === 'pending') available.push('approve')
  if (canWrite && device.state === 'disabled') available.push('enable')
  if (canWrite && device.state !== 'disabled' && device.state !== 'revoked')
    available.push('disable')
  if (canRevoke && device.state !== 'revoked') available.push('revoke')
  const q = pending === undefined ? undefined : questions[pending]
  return (
    <>
      {available.map((a) => (
        <button
          key={a}
          type="button"
          class={questions[a].danger ? 'danger' : ''}
          onClick={() => setPending(a)}
        >
          {a[0]?.toUpperCase()}
          {a.slice(1)}
        </button>
      ))}
      <ConfirmDialog
        open={pending !== undefined}
        title={q?.title ?? ''}
        confirmLabel={
          pending === undefined ? 'OK' : `${pending[0]?.toUpperCase() ?? ''}${pending.slice(1)}`
        }
        danger={q?.danger ?? false}
        busy={busy}
        onCancel={() => setPending(undefined)}
        onConfirm={() => {
          if (pending === undefined) return
          runConfirmed(
            setBusy,
            () => setPending(undefined),
            async () => {
              const d = await api.post<Device>(
                `/api/v1/devices/${encodeURIComponent(device.id)}/${pending}`,
                { reason: 'from the console' },
              )
              onChanged(d)
              return `Device ${d.id} is ${d.state}`
            },
          )
        }}
      >
        <p>
          <strong>{device.id}</strong>: {q?.body}
        </p>
      </ConfirmDialog>
    </>
  )
}
