import { useState } from 'preact/hooks'
import type { Device, DeviceState, Page, Twin } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link } from '../../app/router.js'
import { DataTable, type Column } from '../../components/data-table.js'
import { formatAgo, formatJson } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { CreateDevice } from './create-device.js'

type SearchMode = 'search' | 'labels' | 'twin'
const states: readonly DeviceState[] = ['pending', 'provisioned', 'active', 'disabled', 'revoked']
const pageSize = 50

const deviceHref = (id: string) => `/devices/${encodeURIComponent(id)}`

const deviceColumns: readonly Column<Device>[] = [
  {
    key: 'id',
    label: 'Device',
    serverSort: 'id',
    render: (d) => <Link href={deviceHref(d.id)}>{d.id}</Link>,
  },
  { key: 'name', label: 'Name', serverSort: 'name', render: (d) => d.name },
  {
    key: 'state',
    label: 'State',
    serverSort: 'state',
    render: (d) => <span class={`badge state-${d.state}`}>{d.state}</span>,
  },
  {
    key: 'presence',
    label: 'Connection',
    sortValue: (d) => d.presence.status,
    render: (d) => <span class={`badge presence-${d.presence.status}`}>{d.presence.status}</span>,
  },
  {
    key: 'seen',
    label: 'Last seen',
    sortValue: (d) => d.presence.lastSeenAt ?? 0,
    render: (d) => formatAgo(d.presence.lastSeenAt),
  },
  {
    key: 'created',
    label: 'Registered',
    serverSort: 'createdAt',
    render: (d) => formatAgo(d.createdAt),
  },
  {
    key: 'labels',
    label: 'Labels',
    render: (d) => (
      <span class="labels">
        {Object.entries(d.labels).map(([k, v]) => (
          <span key={k} class="tag">
            {k}={v}
          </span>
        ))}
      </span>
    ),
  },
]

const twinColumns: readonly Column<Twin>[] = [
  {
    key: 'id',
    label: 'Device',
    sortValue: (t) => t.deviceId,
    render: (t) => <Link href={deviceHref(t.deviceId)}>{t.deviceId}</Link>,
  },
  {
    key: 'reported',
    label: 'Reported',
    render: (t) => <code class="clip">{formatJson(t.reported).slice(0, 160)}</code>,
  },
  {
    key: 'desired',
    label: 'Desired',
    render: (t) => <code class="clip">{formatJson(t.desired).slice(0, 160)}</code>,
  },
]

/**
 * Every device of the tenant, a page at a time from the node: search by id or name prefix, by a
 * label query, or by a twin query; filter by state; register a device.
 */
export function DevicesPage() {
  const { api } = useApp()
  const canCreate = useCan('devices:write')
  const [mode, setMode] = useState<SearchMode>('search')
  const [text, setText] = useState('')
  const [applied, setApplied] = useState({ mode: 'search' as SearchMode, text: '' })
  const [state, setState] = useState<DeviceState | ''>('')
  const [creating, setCreating] = useState(false)
  const [reloadKey, setReloadKey] = useState(0)
  return (
    <>
      <PageHeader title="Devices">
        {canCreate ? (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Register a device
          </button>
        ) : null}
      </PageHeader>
      {creating ? (
        <CreateDevice
          onClose={(created) => {
            setCreating(false)
            if (created) setReloadKey((k) => k + 1)
          }}
        />
      ) : null}
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault()
          setApplied({ mode, text: text.trim() })
        }}
      >
        <label>
          Search by
          <select value={mode} onChange={(e) => setMode(e.currentTarget.value as SearchMode)}>
            <option value="search">id or name (prefix)</option>
            <option value="labels">label query</option>
            <option value="twin">twin query</option>
          </select>
        </label>
        <label class="grow">
          {mode === 'search'
            ? 'Id or name starts with'
            : mode === 'labels'
              ? 'Labels (site=berlin,tier!=test)'
              : 'Twin (reported.firmware=2.1)'}
          <input
            type="search"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            spellcheck={false}
          />
        </label>
        {mode === 'twin' ? null : (
          <label>
            State
            <select
              value={state}
              onChange={(e) => setState(e.currentTarget.value as DeviceState | '')}
            >
              <option value="">any</option>
              {states.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit">Search</button>
      </form>
      {applied.mode === 'twin' ? (
        <DataTable<Twin>
          caption="Devices whose twin matches"
          columns={twinColumns}
          rowKey={(t) => t.deviceId}
          empty="No twin matches."
          resetOn={[applied.text]}
          reloadKey={reloadKey}
          fetchPage={(cursor, signal) =>
            api.get<Page<Twin>>(
              '/api/v1/twins',
              { where: applied.text, limit: pageSize, cursor },
              signal,
            )
          }
        />
      ) : (
        <DataTable<Device>
          caption="Devices"
          columns={deviceColumns}
          rowKey={(d) => d.id}
          empty="No devices match."
          resetOn={[applied.mode, applied.text, state]}
          reloadKey={reloadKey}
          fetchPage={(cursor, signal, sort) =>
            api.get<Page<Device>>(
              '/api/v1/devices',
              {
                limit: pageSize,
                cursor,
                sort,
                state: state === '' ? undefined : state,
                [applied.mode]: applied.text === '' ? undefined : applied.text,
              },
              signal,
            )
          }
        />
      )}
    </>
  )
}
