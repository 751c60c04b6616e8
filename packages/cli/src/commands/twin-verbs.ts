import { Option, type Command } from 'commander'
import { CliError } from '../errors.js'
import { connect, pathOf, type RemoteFlags } from './api-client.js'
import {
  emit,
  fields,
  group,
  parseLimit,
  remoteVerb,
  table,
  when,
  type NodeVerbContext,
} from './api-output.js'
import { parseTimeFlag, resolveTime, type TimeSpec } from './data-time.js'
import { intOption } from './int-option.js'
import { collectSetting, parseJsonObject } from './json-args.js'

const parseQueryLimit = intOption(1, 100, 'expected a whole number from 1 to 100')

/** A device twin as the node returns it. */
interface Twin {
  readonly deviceId: string
  readonly desired: Record<string, unknown>
  readonly reported: Record<string, unknown>
  readonly desiredVersion: number
  readonly reportedVersion: number
  readonly desiredUpdatedAt: number | null
  readonly reportedUpdatedAt: number | null
  readonly deliveredDesiredVersion: number
  readonly asOf: number | null
}

interface TwinChange {
  readonly side: 'desired' | 'reported'
  readonly version: number
  readonly source: string
  readonly at: number
  readonly patch: Record<string, unknown>
}

interface Page<T> {
  readonly items: readonly T[]
  readonly nextCursor: string | null
}

type Flags = RemoteFlags & { json?: boolean }

function documentText(doc: Record<string, unknown>): string {
  return JSON.stringify(doc, null, 2).replaceAll('\n', '\n    ')
}

function twinText(t: Twin): string {
  return [
    `${t.deviceId}${t.asOf === null ? '' : ` as it was at ${when(t.asOf)}`}`,
    fields([
      [
        'desired',
        `version ${String(t.desiredVersion)}, updated ${when(t.desiredUpdatedAt)}, device holds ${String(t.deliveredDesiredVersion)}`,
      ],
      ['reported', `version ${String(t.reportedVersion)}, updated ${when(t.reportedUpdatedAt)}`],
    ]),
    `  desired:  ${documentText(t.desired)}`,
    `  reported: ${documentText(t.reported)}`,
  ].join('\n')
}

/** Registers `strata twin show|desire|history|query`: device twins on a running node. */
export function addTwin(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const twin = group(
    program,
    'twin',
    'device twins: desired and reported state, history, fleet queries',
    out,
  )

  remoteVerb(ctx, twin, 'show')
    .description('show a device twin, now or as it was at a time')
    .argument('<device>', 'the device id')
    .option('--at <time>', 'the twin as it was then: ISO 8601, epoch ms, or -2h', parseTimeFlag)
    .action(async (device: string, opts: Flags & { at?: TimeSpec }) => {
      const api = await connect(opts)
      const at = opts.at === undefined ? undefined : resolveTime(opts.at, Date.now())
      const t = await api.get<Twin>(pathOf`/api/v1/devices/${device}/twin`, { at })
      emit(out, opts.json, t, () => twinText(t))
    })

  remoteVerb(ctx, twin, 'desire')
    .description(
      'change the desired state (a JSON merge patch: null deletes); the device gets it now, or when it wakes',
    )
    .argument('<device>', 'the device id')
    .argument('[patch]', 'a JSON object, e.g. \'{"interval": 30}\'', parseJsonObject)
    .option(
      '--set <path=value>',
      'one property, e.g. config.interval=30 (repeatable)',
      collectSetting,
    )
    .option('--if-match <version>', 'refuse (412) unless the desired version is still this one')
    .action(
      async (
        device: string,
        patch: Record<string, unknown> | undefined,
        opts: Flags & { set?: Record<string, unknown>; ifMatch?: string },
      ) => {
        if (patch === undefined && opts.set === undefined)
          throw new CliError('CLI_USAGE', 'nothing to change', {
            hint: 'Give a JSON patch, e.g. strata twin desire pump-7 \'{"interval": 30}\', or --set interval=30.',
          })
        if (patch !== undefined && opts.set !== undefined)
          throw new CliError('CLI_USAGE', 'a JSON patch and --set do not go together')
        const api = await connect(opts)
        const t = await api.patch<Twin>(
          pathOf`/api/v1/devices/${device}/twin/desired`,
          patch ?? opts.set,
          opts.ifMatch,
        )
        emit(out, opts.json, t, () => `desired version ${String(t.desiredVersion)}\n${twinText(t)}`)
      },
    )

  remoteVerb(ctx, twin, 'history')
    .description('what the device was told and what it reported, newest first')
    .argument('<device>', 'the device id')
    .addOption(new Option('--side <side>', 'only one side').choices(['desired', 'reported']))
    .option('--from <time>', 'from (ISO 8601, epoch ms, -1d)', parseTimeFlag)
    .option('--to <time>', 'to (ISO 8601, epoch ms, -1h)', parseTimeFlag)
    .option('--limit <n>', 'at most this many changes (1–1000, default 100)', parseLimit)
    .action(
      async (
        device: string,
        opts: Flags & { side?: string; from?: TimeSpec; to?: TimeSpec; limit?: number },
      ) => {
        const api = await connect(opts)
        const now = Date.now()
        const page = await api.get<Page<TwinChange>>(
          pathOf`/api/v1/devices/${device}/twin/history`,
          {
            side: opts.side,
            from: opts.from === undefined ? undefined : resolveTime(opts.from, now),
            to: opts.to === undefined ? undefined : resolveTime(opts.to, now),
            limit: opts.limit,
          },
        )
        emit(out, opts.json, page, () =>
          table(
            out,
            ['at', 'side', 'version', 'source', 'patch'],
            page.items.map((c) => [
              when(c.at),
              c.side,
              String(c.version),
              c.source,
              JSON.stringify(c.patch),
            ]),
            'no changes',
          ),
        )
      },
    )

  remoteVerb(ctx, twin, 'query')
    .description(
      'the devices whose twin matches, e.g. --where reported.firmware=2.1 --labels site=berlin',
    )
    .option(
      '--where <terms>',
      'reported.x=1, desired.y>=2, attributes.z, !reported.fault (docs/node.md)',
    )
    .option('--labels <query>', 'label query: site=berlin,tier!=test')
    .option('--limit <n>', 'at most this many (1–100, default 50)', parseQueryLimit)
    .action(async (opts: Flags & { where?: string; labels?: string; limit?: number }) => {
      const api = await connect(opts)
      const page = await api.get<Page<Twin>>('/api/v1/twins', {
        where: opts.where,
        labels: opts.labels,
        limit: opts.limit,
      })
      emit(out, opts.json, page, () =>
        table(
          out,
          ['device', 'desired v', 'reported v', 'reported'],
          page.items.map((t) => [
            t.deviceId,
            String(t.desiredVersion),
            String(t.reportedVersion),
            JSON.stringify(t.reported).slice(0, 60),
          ]),
          'no twin matches',
        ),
      )
    })
}
