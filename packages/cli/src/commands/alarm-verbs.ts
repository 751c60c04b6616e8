import type { Alarm, AlarmHistoryEntry, AlarmSummary } from '@strata/cloud'
import { Option, type Command } from 'commander'
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

const severities = ['info', 'warning', 'error', 'critical'] as const
const statuses = ['open', 'active', 'acknowledged', 'cleared'] as const

type Flags = RemoteFlags & { json?: boolean }

function sourceText(a: Alarm): string {
  if (a.source.rule !== undefined)
    return `rule ${a.source.rule}${a.source.ruleVersion === undefined ? '' : ` v${String(a.source.ruleVersion)}`}`
  return a.source.user ?? '-'
}

function alarmText(a: Alarm, history: readonly AlarmHistoryEntry[] | undefined): string {
  const lines = [
    `${a.id}  ${a.severity.toUpperCase()} ${a.type} on ${a.deviceId}: ${a.status}`,
    fields([
      ['message', a.message ?? '-'],
      ['source', sourceText(a)],
      ['raised', `${when(a.raisedAt)} (last ${when(a.lastRaisedAt)}, ${String(a.count)}×)`],
      ...(a.acknowledgedAt === null
        ? []
        : [['acknowledged', `${when(a.acknowledgedAt)} by ${a.acknowledgedBy ?? '-'}`] as const]),
      ...(a.clearedAt === null
        ? []
        : [['cleared', `${when(a.clearedAt)} by ${a.clearedBy ?? '-'}`] as const]),
      ['comments', String(a.comments)],
    ]),
  ]
  if (history !== undefined && history.length > 0) {
    lines.push('history:')
    for (const e of history) {
      const d = e.details
      const extra = [d['text'], d['comment'], d['message']]
        .filter((x) => typeof x === 'string')
        .join('; ')
      lines.push(`  ${when(e.at)} ${e.kind} by ${e.by}${extra === '' ? '' : `: ${extra}`}`)
    }
  }
  return lines.join('\n')
}

/** Registers `strata alarms list|summary|show|ack|clear|comment|raise`: alarms on a running node. */
export function addAlarms(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const alarms = group(
    program,
    'alarms',
    'alarms raised by rules or people: list, acknowledge, clear, comment',
    out,
  )

  remoteVerb(ctx, alarms, 'list')
    .description('alarms, newest first (default: the open ones)')
    .addOption(new Option('--status <status>', 'which ones').choices([...statuses]).default('open'))
    .addOption(new Option('--severity <severity>', 'only this severity').choices([...severities]))
    .option('--device <id>', 'only this device')
    .option('--type <type>', 'only this alarm type')
    .option('--rule <name>', 'only raised by this rule')
    .option('--search <text>', 'text in the type, message or device id')
    .option('--since <time>', 'raised at or after: ISO, epoch ms, or relative (-1d)', parseTimeFlag)
    .option('--limit <n>', 'at most this many (1–1000, default 50)', parseLimit)
    .action(
      async (
        opts: Flags & {
          status: string
          severity?: string
          device?: string
          type?: string
          rule?: string
          search?: string
          since?: TimeSpec
          limit?: number
        },
      ) => {
        const page = await (
          await connect(opts)
        ).get<{ items: Alarm[]; nextCursor: string | null }>('/api/v1/alarms', {
          status: opts.status,
          severity: opts.severity,
          device: opts.device,
          type: opts.type,
          rule: opts.rule,
          q: opts.search,
          from: opts.since === undefined ? undefined : resolveTime(opts.since, Date.now()),
          limit: opts.limit,
        })
        emit(
          out,
          opts.json,
          page,
          () =>
            table(
              out,
              ['id', 'severity', 'type', 'device', 'status', 'raised', 'count', 'source'],
              page.items.map((a) => [
                a.id,
                a.severity,
                a.type,
                a.deviceId,
                a.status,
                when(a.raisedAt),
                String(a.count),
                sourceText(a),
              ]),
              `no ${opts.status === 'open' ? 'open ' : ''}alarms`,
            ) + (page.nextCursor === null ? '' : 'more: raise --limit or narrow the filters\n'),
        )
      },
    )

  remoteVerb(ctx, alarms, 'summary')
    .description('open alarms counted by severity and status')
    .action(async (opts: Flags) => {
      const s = await (await connect(opts)).get<AlarmSummary>('/api/v1/alarms/summary')
      emit(out, opts.json, s, () =>
        [
          `${String(s.open)} open alarm${s.open === 1 ? '' : 's'}`,
          fields([
            ...severities.map((k) => [k, String(s.bySeverity[k])] as const),
            ['active', String(s.byStatus.active)],
            ['acknowledged', String(s.byStatus.acknowledged)],
          ]),
        ].join('\n'),
      )
    })

  remoteVerb(ctx, alarms, 'show')
    .description('one alarm with its history and comments')
    .argument('<id>', 'the alarm id')
    .action(async (id: string, opts: Flags) => {
      const api = await connect(opts)
      const [alarm, history] = await Promise.all([
        api.get<Alarm>(pathOf`/api/v1/alarms/${id}`),
        api.get<{ items: AlarmHistoryEntry[] }>(pathOf`/api/v1/alarms/${id}/history`, {
          limit: 1000,
        }),
      ])
      emit(out, opts.json, { ...alarm, history: history.items }, () =>
        alarmText(alarm, history.items),
      )
    })

  const transitions = [
    ['ack', 'acknowledge', 'acknowledge an active alarm: someone is on it'],
    ['clear', 'clear', 'clear an alarm by hand (a rule that still matches raises a new one)'],
  ] as const
  for (const [verb, path, description] of transitions) {
    remoteVerb(ctx, alarms, verb)
      .description(description)
      .argument('<id>', 'the alarm id')
      .option('--comment <text>', 'why, kept in its history')
      .action(async (id: string, opts: Flags & { comment?: string }) => {
        const a = await (
          await connect(opts)
        ).post<Alarm>(
          pathOf`/api/v1/alarms/${id}/${path}`,
          opts.comment === undefined ? {} : { comment: opts.comment },
        )
        emit(out, opts.json, a, () => `${a.id}: ${a.status}`)
      })
  }

  remoteVerb(ctx, alarms, 'comment')
    .description('add a comment to an alarm')
    .argument('<id>', 'the alarm id')
    .argument('<text>', 'the comment')
    .action(async (id: string, text: string, opts: Flags) => {
      const reply = await (
        await connect(opts)
      ).post<unknown>(pathOf`/api/v1/alarms/${id}/comments`, { text })
      emit(out, opts.json, reply, () => `commented on ${id}`)
    })

  remoteVerb(ctx, alarms, 'raise')
    .description('raise an alarm by hand (an open one of the same device and type is updated)')
    .argument('<device>', 'the device id')
    .argument('<type>', 'the alarm type, e.g. door-open')
    .addOption(
      new Option('--severity <severity>', 'how bad').choices([...severities]).default('warning'),
    )
    .option('--message <text>', 'what is wrong')
    .action(
      async (
        device: string,
        type: string,
        opts: Flags & { severity: string; message?: string },
      ) => {
        const a = await (
          await connect(opts)
        ).post<Alarm>('/api/v1/alarms', {
          deviceId: device,
          type,
          severity: opts.severity,
          ...(opts.message === undefined ? {} : { message: opts.message }),
        })
        emit(out, opts.json, a, () => alarmText(a, undefined))
      },
    )
}
