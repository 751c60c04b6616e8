import { deviceListSorts } from '@strata/cloud'
import { Option, type Command } from 'commander'
import { connect, pathOf, type ApiClient, type RemoteFlags } from './api-client.js'
import {
  collectLabel,
  emit,
  fields,
  group,
  labelText,
  parseLimit,
  progress,
  remoteVerb,
  table,
  when,
  type NodeVerbContext,
} from './api-output.js'
import { confirm } from './api-prompt.js'
import {
  addDeviceCredentialVerbs,
  issueToken,
  mqttEndpoint,
  tokenText,
} from './devices-credentials.js'

/** A device as the node returns it, with its presence. */
export interface Device {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly state: string
  readonly stateReason: string
  readonly labels: Readonly<Record<string, string>>
  readonly attributes: Readonly<Record<string, unknown>>
  readonly createdAt: number
  readonly updatedAt: number
  readonly presence: {
    readonly status: string
    readonly reason: string
    readonly since: number
    readonly lastSeenAt: number | null
    readonly wakeBy: number | null
  }
}

interface Refused {
  readonly count: number
  readonly last: { code: string; message: string; topic: string; at: number } | null
}

type Flags = RemoteFlags & { json?: boolean }
const deviceStates = ['pending', 'provisioned', 'active', 'disabled', 'revoked'] as const

/** Registers `strata devices …`: the device registry of a running node. */
export function addDevices(program: Command, ctx: NodeVerbContext): void {
  const devices = group(
    program,
    'devices',
    'manage the devices of a running node: register, list, inspect, lifecycle, credentials',
    ctx.out,
  )
  addCreate(devices, ctx)
  addList(devices, ctx)
  addShow(devices, ctx)
  addLifecycle(devices, ctx)
  addDeviceCredentialVerbs(devices, ctx)
}

function addCreate(devices: Command, ctx: NodeVerbContext): void {
  remoteVerb(ctx, devices, 'create', { tokenFlag: false })
    .description(
      'register a device; with --token also issue its MQTT token (authenticate with STRATA_TOKEN or `strata login`)',
    )
    .argument('<id>', 'the device id (its MQTT client id and username)')
    .option('--name <name>', 'a display name')
    .option('--label <k=v>', 'a label (repeatable)', collectLabel)
    .option('--token', 'also issue a device token, shown once')
    .action(
      async (
        id: string,
        opts: {
          url?: string
          name?: string
          label?: Record<string, string>
          token?: boolean
          json?: boolean
        },
      ) => {
        const client = await connect({ ...(opts.url === undefined ? {} : { url: opts.url }) })
        const device = await client.post<Device>('/api/v1/devices', {
          id,
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.label === undefined ? {} : { labels: opts.label }),
        })
        const issued = opts.token === true ? await issueToken(client, id, undefined) : undefined
        const mqtt =
          issued === undefined || opts.json === true ? undefined : await mqttEndpoint(client)
        emit(ctx.out, opts.json, { device, ...issued }, () => {
          const head = `created device ${device.id} (state ${device.state})`
          return issued === undefined || mqtt === undefined
            ? head
            : `${head}\n${tokenText(mqtt, id, issued)}`
        })
      },
    )
}

interface ListFlags extends Flags {
  labels?: string
  state?: string
  search?: string
  limit?: number
  cursor?: string
  all?: boolean
  sort?: string
}

function addList(devices: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  remoteVerb(ctx, devices, 'list')
    .description('list devices, a page at a time (--all follows every page)')
    .option('--labels <query>', 'label query: site=berlin,tier!=test,gpu,!retired')
    .addOption(new Option('--state <state>', 'only devices in this state').choices(deviceStates))
    .option('--search <prefix>', 'id or name starts with this')
    .option('--limit <n>', 'devices per page (1-1000)', parseLimit)
    .addOption(
      new Option('--sort <order>', 'the order, on the node (default id; - for descending)').choices(
        deviceListSorts,
      ),
    )
    .option('--cursor <cursor>', 'the next page, as printed by the previous one (same --sort)')
    .option('--all', 'every page')
    .action(async (opts: ListFlags) => {
      const client = await connect(opts)
      const items: Device[] = []
      const bar = progress(out, opts.json)
      let cursor = opts.cursor
      for (;;) {
        const page = await client.get<{ items: Device[]; nextCursor: string | null }>(
          '/api/v1/devices',
          {
            labels: opts.labels,
            state: opts.state,
            search: opts.search,
            sort: opts.sort,
            limit: opts.limit ?? (opts.all === true ? 1000 : 100),
            cursor,
          },
        )
        items.push(...page.items)
        cursor = page.nextCursor ?? undefined
        if (opts.all !== true || cursor === undefined) break
        bar.update(`${String(items.length)} devices…`)
      }
      bar.done()
      const nextCursor = cursor ?? null
      emit(out, opts.json, { items, nextCursor }, () => {
        const rows = items.map((d) => [
          d.id,
          d.name,
          d.state,
          d.presence.status,
          when(d.presence.lastSeenAt),
          labelText(d.labels),
        ])
        const more =
          nextCursor === null
            ? ''
            : `more devices: run again with --cursor ${nextCursor} (or --all)\n`
        return (
          table(
            out,
            ['id', 'name', 'state', 'presence', 'last seen', 'labels'],
            rows,
            'no devices',
          ) + more
        )
      })
    })
}

function addShow(devices: Command, ctx: NodeVerbContext): void {
  remoteVerb(ctx, devices, 'show')
    .description('one device: state, presence, labels, refused messages')
    .argument('<id>', 'the device id')
    .action(async (id: string, opts: Flags) => {
      const client = await connect(opts)
      const device = await client.get<Device>(pathOf`/api/v1/devices/${id}`)
      const refused = await client.get<Refused>(pathOf`/api/v1/devices/${id}/errors`)
      emit(ctx.out, opts.json, { ...device, refused }, () => showText(device, refused))
    })
}

function showText(d: Device, refused: Refused): string {
  const p = d.presence
  const rows: [string, string][] = [
    ['name', d.name],
    ['tenant', d.tenantId],
    ['state', d.stateReason === '' ? d.state : `${d.state} (${d.stateReason})`],
    [
      'presence',
      `${p.status}${p.since > 0 ? ` since ${when(p.since)}` : ''}${p.reason === '' ? '' : ` (${p.reason})`}`,
    ],
    ['last seen', when(p.lastSeenAt)],
    ['labels', labelText(d.labels) || '-'],
    ['created', when(d.createdAt)],
    ['refused', `${String(refused.count)} message${refused.count === 1 ? '' : 's'}`],
  ]
  if (p.wakeBy !== null) rows.splice(5, 0, ['wake by', when(p.wakeBy)])
  if (refused.last !== null)
    rows.push([
      'last refusal',
      `${refused.last.code} ${refused.last.message} (${refused.last.topic}, ${when(refused.last.at)})`,
    ])
  return `${d.id}\n${fields(rows)}`
}

function addLifecycle(devices: Command, ctx: NodeVerbContext): void {
  const verbs = {
    approve: 'approve a pending device',
    disable: 'refuse the device until enabled; cuts its live session',
    enable: 'let a disabled device connect again',
    revoke: 'revoke the device for good: voids every credential and cuts its session',
  } as const
  for (const [action, description] of Object.entries(verbs)) {
    const command = remoteVerb(ctx, devices, action)
      .description(description)
      .argument('<id>', 'the device id')
      .option('--reason <text>', 'why, for the audit log and `devices show`')
    if (action === 'revoke') command.option('-y, --yes', 'do not ask for confirmation')
    command.action(async (id: string, opts: Flags & { reason?: string; yes?: boolean }) => {
      const client = await connect(opts)
      if (action === 'revoke' && opts.yes !== true)
        await confirm(ctx.stdin ?? process.stdin, ctx.out, `revoke device ${id} for good`)
      const device = await transition(client, id, action, opts.reason)
      emit(
        ctx.out,
        opts.json,
        device,
        () => `${pastTense(action)} ${device.id} (state ${device.state})`,
      )
    })
  }
}

function transition(
  client: ApiClient,
  id: string,
  action: string,
  reason: string | undefined,
): Promise<Device> {
  return client.post<Device>(
    `${pathOf`/api/v1/devices/${id}`}/${action}`,
    reason === undefined ? {} : { reason },
  )
}

/** approve, disable, enable, revoke: each ends in e. */
function pastTense(action: string): string {
  return `${action}d`
}
