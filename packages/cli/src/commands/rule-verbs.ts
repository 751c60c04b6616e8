import type { RuleStats } from '@strata/cloud'
import { Option, type Command } from 'commander'
import { CliError } from '../errors.js'
import { confirm } from './api-prompt.js'
import { connect, NodeApiError, pathOf, type ApiClient, type RemoteFlags } from './api-client.js'
import { emit, fields, group, remoteVerb, table, when, type NodeVerbContext } from './api-output.js'
import { parseTimeFlag, resolveTime, type TimeSpec } from './data-time.js'
import { intOption } from './int-option.js'
import { parseJsonObject } from './json-args.js'
import { readInput } from './read-input.js'

/** A saved rule as the node returns it. */
interface Rule {
  readonly name: string
  readonly version: number
  readonly enabled: boolean
  readonly definition: Record<string, unknown>
  readonly createdAt: number
  readonly updatedAt: number
  readonly updatedBy: string
  readonly disabledReason?: string
  readonly disabledAt?: number
  readonly stats?: RuleStats
}

interface RuleVersion {
  readonly version: number
  readonly definition: Record<string, unknown>
  readonly at: number
  readonly by: string
}

/** One step of a dry run or a replay. */
interface DryRunStep {
  readonly source: 'message' | 'tick'
  readonly index?: number
  readonly result: {
    readonly deviceId: string
    readonly at: number
    readonly selected: boolean
    readonly matched: boolean
    readonly output?: unknown
    readonly actions: readonly { readonly type: string }[]
    readonly error?: { readonly code: string; readonly message: string }
    readonly missing?: string
  }
}

interface DryRunReport {
  readonly steps: readonly DryRunStep[]
  readonly summary: {
    readonly messages: number
    readonly selected: number
    readonly matched: number
    readonly errors: number
  }
  readonly health: { readonly status: string }
  readonly window?: {
    readonly from: number
    readonly to: number
    readonly messages: number
    readonly truncated: boolean
  }
}

interface DeadLetter {
  readonly id: string
  readonly target: string
  readonly reason: string
  readonly attempts: number
  readonly lastError?: { readonly code: string; readonly message: string } | string
  readonly deadAt?: number
}

type Flags = RemoteFlags & { json?: boolean }

const parseVersion = intOption(1, Number.MAX_SAFE_INTEGER, 'expected a version number (1, 2, …)')
const parseReplayLimit = intOption(1, 100_000, 'expected a whole number from 1 to 100000')

function ruleText(r: Rule): string {
  const s = r.stats
  const state = r.enabled ? 'enabled' : r.disabledReason === undefined ? 'disabled' : 'DISABLED'
  return [
    `${r.name} v${String(r.version)}: ${state}`,
    fields([
      ['updated', `${when(r.updatedAt)} by ${r.updatedBy}`],
      ['created', when(r.createdAt)],
      ...(r.disabledReason === undefined
        ? []
        : [['disabled', `${when(r.disabledAt)}: ${r.disabledReason}`] as const]),
      ...(s === undefined ? [] : statsRows(s)),
    ]),
    JSON.stringify(r.definition, null, 2),
  ].join('\n')
}

function statsRows(s: RuleStats): (readonly [string, string])[] {
  return [
    ['health', s.health],
    [
      'messages',
      `${String(s.evaluations)} evaluated, ${String(s.selected)} selected, ${String(s.matched)} matched, ${String(s.errors)} errors`,
    ],
    ['rate', `${s.ratePerSecond.toFixed(1)}/s over the last minute`],
    [
      'latency',
      `p50 ${ms(s.latencyMs.p50)}, p99 ${ms(s.latencyMs.p99)}, max ${ms(s.latencyMs.max)}`,
    ],
    [
      'actions',
      `${String(s.actionsRun)} run, ${String(s.actionsFailed)} failed, ${String(s.deadLetters)} dead letters`,
    ],
    ...(s.lastMatchAt === undefined ? [] : [['last match', when(s.lastMatchAt)] as const]),
    ...(s.lastError === undefined
      ? []
      : [
          [
            'last error',
            `${when(s.lastError.at)} ${s.lastError.code}: ${s.lastError.message}`,
          ] as const,
        ]),
  ]
}

function ms(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`
}

/** A dry run's or replay's summary and the steps that matched or failed (at most `show`). */
function reportText(report: DryRunReport, show: number): string {
  const { summary: s } = report
  const lines: string[] = []
  if (report.window !== undefined) {
    const w = report.window
    lines.push(
      `window ${when(w.from)} → ${when(w.to)}: ${String(w.messages)} messages${w.truncated ? ' (truncated: raise --limit or narrow the window)' : ''}`,
    )
  }
  lines.push(
    `${String(s.messages)} messages, ${String(s.selected)} selected, ${String(s.matched)} matched, ${String(s.errors)} errors; health would be ${report.health.status}`,
  )
  const notable = report.steps.filter((st) => st.result.matched || st.result.error !== undefined)
  for (const st of notable.slice(0, show)) {
    const r = st.result
    const what =
      r.error !== undefined
        ? `error ${r.error.code}: ${r.error.message}`
        : `matched → ${r.actions.map((a) => a.type).join(', ') || 'no actions'}` +
          (r.output === undefined ? '' : ` ${JSON.stringify(r.output)}`)
    const origin = st.source === 'tick' ? 'silence' : `#${String(st.index ?? '?')}`
    lines.push(`  ${when(r.at)} ${r.deviceId} ${origin}: ${what}`)
  }
  if (notable.length > show)
    lines.push(`  … ${String(notable.length - show)} more (use --json for all)`)
  return lines.join('\n')
}

const ruleHint = 'A rule is one JSON object; docs/rules.md shows its fields.'
const samplesHint = 'Samples are a JSON array: [{"payload": {"temp": 31}}, …].'

/** A JSON file (- for standard input), parsed; a clear error when it is not JSON. */
async function readJsonFile(
  file: string,
  stdin: NodeJS.ReadableStream | undefined,
  hint: string,
): Promise<unknown> {
  const text = Buffer.from(await readInput(file, stdin)).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `${file} is not JSON: ${String(cause)}`, {
      hint,
      cause,
    })
  }
}

async function readRuleFile(file: string, stdin: NodeJS.ReadableStream | undefined) {
  const value = await readJsonFile(file, stdin, ruleHint)
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>
  throw new CliError('CLI_FILE_UNREADABLE', `${file} holds no JSON object`, { hint: ruleHint })
}

function ruleName(definition: Record<string, unknown>, file: string): string {
  const name = definition['name']
  if (typeof name !== 'string' || name === '')
    throw new CliError('CLI_FILE_UNREADABLE', `the rule in ${file} has no "name"`, {
      hint: 'Give the rule a name: {"name": "overheat", …}.',
    })
  return name
}

function readRule(api: ApiClient, name: string): Promise<Rule> {
  return api.get<Rule>(pathOf`/api/v1/rules/${name}`)
}

/** Whether the node answered 404 (the rule does not exist). */
function isNotFound(err: unknown): boolean {
  return err instanceof NodeApiError && err.status === 404
}

/**
 * Registers `strata rules list|show|create|update|apply|delete|enable|disable|versions|dry-run|
 * replay|dead-letters`: the rules of a running node.
 */
export function addRules(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const rules = group(
    program,
    'rules',
    'the rules that act on device messages: edit, test on samples or recorded traffic, watch',
    out,
  )

  remoteVerb(ctx, rules, 'list')
    .description('every rule of the tenant with its health, rate and latency')
    .action(async (opts: Flags) => {
      const page = await (await connect(opts)).get<{ items: Rule[] }>('/api/v1/rules')
      emit(out, opts.json, page, () =>
        table(
          out,
          ['name', 'version', 'state', 'health', 'rate/s', 'matched', 'errors', 'p99'],
          page.items.map((r) => [
            r.name,
            String(r.version),
            r.enabled ? 'enabled' : 'disabled',
            r.stats?.health ?? '-',
            r.stats === undefined ? '-' : r.stats.ratePerSecond.toFixed(1),
            String(r.stats?.matched ?? '-'),
            String(r.stats?.errors ?? '-'),
            r.stats === undefined ? '-' : ms(r.stats.latencyMs.p99),
          ]),
          'no rules (strata rules create FILE adds one)',
        ),
      )
    })

  remoteVerb(ctx, rules, 'show')
    .description('a rule: its definition, state and run-time figures')
    .argument('<name>', 'the rule')
    .option('--version <n>', 'an earlier version of its definition', parseVersion)
    .action(async (name: string, opts: Flags & { version?: number }) => {
      const api = await connect(opts)
      if (opts.version !== undefined) {
        const v = await api.get<RuleVersion>(
          pathOf`/api/v1/rules/${name}/versions/${String(opts.version)}`,
        )
        emit(out, opts.json, v, () =>
          [
            `${name} v${String(v.version)}, saved ${when(v.at)} by ${v.by}`,
            JSON.stringify(v.definition, null, 2),
          ].join('\n'),
        )
        return
      }
      const r = await readRule(api, name)
      emit(out, opts.json, r, () => ruleText(r))
    })

  remoteVerb(ctx, rules, 'create')
    .description('add a rule from a JSON file (- reads standard input); checked before it is saved')
    .argument('<file>', 'the rule JSON')
    .action(async (file: string, opts: Flags) => {
      const definition = await readRuleFile(file, ctx.stdin)
      const r = await (await connect(opts)).post<Rule>('/api/v1/rules', definition)
      emit(out, opts.json, r, () => `created ${r.name} v${String(r.version)}`)
    })

  remoteVerb(ctx, rules, 'update')
    .description('replace a rule with the JSON in a file; the old version is kept')
    .argument('<file>', 'the rule JSON (its name says which rule)')
    .option(
      '--if-version <n>',
      'refuse (412) unless the saved version is still this one',
      parseVersion,
    )
    .action(async (file: string, opts: Flags & { ifVersion?: number }) => {
      const definition = await readRuleFile(file, ctx.stdin)
      const name = ruleName(definition, file)
      const r = await (
        await connect(opts)
      ).put<Rule>(
        pathOf`/api/v1/rules/${name}`,
        definition,
        opts.ifVersion === undefined ? undefined : `"${String(opts.ifVersion)}"`,
      )
      emit(out, opts.json, r, () => `updated ${r.name} to v${String(r.version)}`)
    })

  remoteVerb(ctx, rules, 'apply')
    .description('create the rule in a file, or update it when one of its name exists')
    .argument('<file>', 'the rule JSON')
    .action(async (file: string, opts: Flags) => {
      const definition = await readRuleFile(file, ctx.stdin)
      const name = ruleName(definition, file)
      const api = await connect(opts)
      let exists = true
      try {
        await readRule(api, name)
      } catch (err) {
        if (!isNotFound(err)) throw err
        exists = false
      }
      const r = exists
        ? await api.put<Rule>(pathOf`/api/v1/rules/${name}`, definition)
        : await api.post<Rule>('/api/v1/rules', definition)
      emit(
        out,
        opts.json,
        r,
        () => `${exists ? 'updated' : 'created'} ${r.name} v${String(r.version)}`,
      )
    })

  remoteVerb(ctx, rules, 'delete')
    .description('delete a rule (its versions stay in the audit trail)')
    .argument('<name>', 'the rule')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, opts: Flags & { yes?: boolean }) => {
      if (opts.yes !== true) await confirm(ctx.stdin ?? process.stdin, out, `delete rule ${name}`)
      await (await connect(opts)).delete(pathOf`/api/v1/rules/${name}`)
      emit(out, opts.json, { name, deleted: true }, () => `deleted ${name}`)
    })

  for (const action of ['enable', 'disable'] as const) {
    remoteVerb(ctx, rules, action)
      .description(
        action === 'enable'
          ? 'run a rule again (also after it was disabled for failing); its state starts fresh'
          : 'stop running a rule; it stays saved',
      )
      .argument('<name>', 'the rule')
      .action(async (name: string, opts: Flags) => {
        const r = await (await connect(opts)).post<Rule>(pathOf`/api/v1/rules/${name}/${action}`)
        emit(out, opts.json, r, () => `${r.name} v${String(r.version)}: ${action}d`)
      })
  }

  remoteVerb(ctx, rules, 'versions')
    .description("a rule's saved versions, newest first")
    .argument('<name>', 'the rule')
    .action(async (name: string, opts: Flags) => {
      const page = await (
        await connect(opts)
      ).get<{ items: RuleVersion[] }>(pathOf`/api/v1/rules/${name}/versions`)
      emit(out, opts.json, page, () =>
        table(
          out,
          ['version', 'saved', 'by', 'enabled'],
          page.items.map((v) => [
            String(v.version),
            when(v.at),
            v.by,
            typeof v.definition['enabled'] === 'boolean' ? String(v.definition['enabled']) : '-',
          ]),
          'no versions',
        ),
      )
    })

  remoteVerb(ctx, rules, 'dry-run')
    .description('run a rule (a file, not saved) over sample messages: what would it do?')
    .argument('<file>', 'the rule JSON')
    .addOption(
      new Option(
        '--sample <json>',
        'a sample payload, e.g. \'{"temp": 31}\' (repeatable; one message each, 1 s apart)',
      ).argParser((text: string, previous: Record<string, unknown>[] | undefined) => [
        ...(previous ?? []),
        parseJsonObject(text),
      ]),
    )
    .option('--samples <file>', 'a JSON array of samples {deviceId?, kind?, ts?, payload, tags?}')
    .option('--device <id>', 'the device the --sample messages come from', 'sample-device')
    .option(
      '--show <n>',
      'list at most this many matches and errors',
      intOption(0, 10_000, 'expected 0–10000'),
      20,
    )
    .action(
      async (
        file: string,
        opts: Flags & {
          sample?: Record<string, unknown>[]
          samples?: string
          device: string
          show: number
        },
      ) => {
        const rule = await readRuleFile(file, ctx.stdin)
        const samples: unknown[] = []
        if (opts.samples !== undefined) {
          const listed = await readJsonFile(opts.samples, ctx.stdin, samplesHint)
          if (!Array.isArray(listed))
            throw new CliError('CLI_FILE_UNREADABLE', `${opts.samples} holds no JSON array`, {
              hint: samplesHint,
            })
          samples.push(...(listed as unknown[]))
        }
        const start = Date.now()
        for (const [i, payload] of (opts.sample ?? []).entries())
          samples.push({ deviceId: opts.device, ts: start + i * 1000, payload })
        if (samples.length === 0)
          throw new CliError('CLI_USAGE', 'no samples: give --sample JSON or --samples FILE', {
            hint: 'e.g. strata rules dry-run overheat.json --sample \'{"temp": 31}\'',
          })
        const report = await (
          await connect(opts)
        ).post<DryRunReport>('/api/v1/rules/dry-run', { rule, samples })
        emit(out, opts.json, report, () => reportText(report, opts.show))
      },
    )

  remoteVerb(ctx, rules, 'replay')
    .description(
      "run a rule (a saved one's name, or a file) over a device's recorded traffic; nothing is sent",
    )
    .argument(
      '<rule>',
      'a saved rule name, or a JSON file (a path with / or ending in .json; - for stdin)',
    )
    .requiredOption('--device <id>', 'whose traffic')
    .option(
      '--from <time>',
      'window start: ISO, epoch ms, or relative (-1h) (default -1h)',
      parseTimeFlag,
    )
    .option('--to <time>', 'window end (default now)', parseTimeFlag)
    .option('--limit <n>', 'at most this many messages (default 10000)', parseReplayLimit)
    .option(
      '--show <n>',
      'list at most this many matches and errors',
      intOption(0, 10_000, 'expected 0–10000'),
      20,
    )
    .action(
      async (
        ruleArg: string,
        opts: Flags & {
          device: string
          from?: TimeSpec
          to?: TimeSpec
          limit?: number
          show: number
        },
      ) => {
        const isFile = ruleArg === '-' || ruleArg.includes('/') || ruleArg.endsWith('.json')
        const rule = isFile ? await readRuleFile(ruleArg, ctx.stdin) : ruleArg
        const now = Date.now()
        const body = {
          rule,
          device: opts.device,
          from: resolveTime(opts.from ?? { kind: 'relative', offsetMs: -3_600_000 }, now),
          to: resolveTime(opts.to ?? { kind: 'relative', offsetMs: 0 }, now),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        }
        const report = await (await connect(opts)).post<DryRunReport>('/api/v1/rules/replay', body)
        emit(out, opts.json, report, () => reportText(report, opts.show))
      },
    )

  remoteVerb(ctx, rules, 'dead-letters')
    .description("a rule's deliveries that ran out of retries; --retry ID sends one again")
    .argument('<name>', 'the rule')
    .option('--retry <id>', 'queue this dead letter again')
    .action(async (name: string, opts: Flags & { retry?: string }) => {
      const api = await connect(opts)
      if (opts.retry !== undefined) {
        await api.post(pathOf`/api/v1/rules/${name}/dead-letters/${opts.retry}/retry`)
        emit(
          out,
          opts.json,
          { id: opts.retry, retried: true },
          () => `queued ${opts.retry ?? ''} again`,
        )
        return
      }
      const page = await api.get<{ items: DeadLetter[] }>(
        pathOf`/api/v1/rules/${name}/dead-letters`,
      )
      emit(out, opts.json, page, () =>
        table(
          out,
          ['id', 'target', 'reason', 'attempts', 'last error', 'dead since'],
          page.items.map((d) => [
            d.id,
            d.target,
            d.reason,
            String(d.attempts),
            typeof d.lastError === 'string'
              ? d.lastError
              : d.lastError === undefined
                ? '-'
                : `${d.lastError.code}: ${d.lastError.message}`,
            when(d.deadAt),
          ]),
          'no dead letters',
        ),
      )
    })
}
