import { useEffect, useState } from 'preact/hooks'
import type { Device } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link } from '../../app/router.js'
import { ApiErrorPage } from '../../components/error-page.js'
import { PageHeader } from '../../components/page-header.js'
import { useAsync } from '../../components/use-async.js'
import { CommandPanel } from './command-panel.js'
import { ConnectionPanel } from './connection-panel.js'
import { CredentialsPanel } from './credentials-panel.js'
import { DeviceActions } from './device-actions.js'
import { DeviceAlarms } from './device-alarms.js'
import { TelemetryPanel } from './telemetry-panel.js'
import { TwinPanel } from './twin-panel.js'

/** One device: live charts, twin, commands, connection, credentials and alarms. */
export function DevicePage({ deviceId }: { readonly deviceId: string }) {
  const { api } = useApp()
  const canTelemetry = useCan('telemetry:read')
  const canCommands = useCan('commands:read')
  const loaded = useAsync(
    (signal) =>
      api.get<Device>(`/api/v1/devices/${encodeURIComponent(deviceId)}`, undefined, signal),
    [deviceId],
  )
  const [device, setDevice] = useState<Device | undefined>()
  useEffect(() => setDevice(loaded.data), [loaded.data])

  if (loaded.error !== undefined)
    return <ApiErrorPage error={loaded.error} onRetry={loaded.reload} />
  if (device === undefined) return <p aria-busy="true">Loading {deviceId}…</p>
  return (
    <>
      <p class="breadcrumb">
        <Link href="/devices">Devices</Link> / {device.id}
      </p>
      <PageHeader title={device.name === device.id ? device.id : `${device.name} (${device.id})`}>
        <span class={`badge state-${device.state}`} data-testid="device-state">
          {device.state}
        </span>
        <DeviceActions device={device} onChanged={setDevice} />
      </PageHeader>
      {Object.keys(device.labels).length === 0 ? null : (
        <p class="labels">
          {Object.entries(device.labels).map(([k, v]) => (
            <span key={k} class="tag">
              {k}={v}
            </span>
          ))}
        </p>
      )}
      {canTelemetry ? <TelemetryPanel deviceId={device.id} /> : null}
      <div class="two-columns">
        <TwinPanel deviceId={device.id} />
        {canCommands ? <CommandPanel deviceId={device.id} /> : null}
      </div>
      <div class="two-columns">
        <ConnectionPanel device={device} />
        <DeviceAlarms deviceId={device.id} />
      </div>
      <CredentialsPanel deviceId={device.id} />
    </>
  )
}
