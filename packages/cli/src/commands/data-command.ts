import { intOption } from './int-option.js'
import { InvalidArgumentError, Option, type Command } from 'commander'
import type { AggregateFunction, Fill, TagMatcher } from '@strata/tsdb'
import { CliError } from '../errors.js'
import type { Output } from '../output.js'
import type { TimePrecision } from './data-csv-values.js'
import { runExport } from './data-export.js'
import { runImport, type DataFormat } from './data-import.js'
import { runQuery } from './data-query.js'
import { runStats } from './data-stats.js'
import { parseDuration, parseTimeFlag, resolveTime, type TimeSpec } from './data-time.js'

/** Makes a verb with the shared output, exit handling and `--json`. */
export type SubcommandFactory = (parent: Command, name: string, out: Output) => Command

const hourMs = 3_600_000
const timeHelp = 'ISO 8601, epoch ms, now, or relative: -15m, -2h, -7d'

/** Registers `strata data import / export / query / stats` (the embedded time-series store). */
export function addData(parent: Command, out: Output, subcommand: SubcommandFactory): void {
  const data = parent
    .command('data')
    .description('import, export and query time series in an embedded data folder')
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
  addImport(data, out, subcommand)
  addExport(data, out, subcommand)
  addQuery(data, out, subcommand)
  subcommand(data, 'stats', out)
    .description(
      'print what the store holds: series, points, bytes on disk, bytes per point, chunks',
    )
    .requiredOption('--data <dir>', 'the data folder')
    .action(async (opts: { data: string; json?: boolean }) => {
      await runStats(opts.data, opts.json === true, out)
    })
}

interface ImportFlags {
  data: string
  format?: DataFormat
  tenant: string
  series?: string
  device?: string
  deviceTag: string
  precision?: TimePrecision
  json?: boolean
}

function addImport(parent: Command, out: Output, subcommand: SubcommandFactory): void {
  subcommand(parent, 'import', out)
    .description(
      'import a CSV or line-protocol file (streamed, any size) into a data folder as history, in batches of 50,000 points; safe to re-run',
    )
    .argument('<file>', 'the file: .csv, or .lp / .line / .influx for line protocol')
    .requiredOption('--data <dir>', 'the data folder (created if missing)')
    .addOption(formatOption('file format (default: from the file name)'))
    .option('--tenant <id>', 'the tenant the points belong to', 'default')
    .option('--series <device/metric>', 'the series of a timestamp,value CSV file')
    .option('--device <id>', 'line protocol: the device of lines without the device tag')
    .option('--device-tag <name>', 'line protocol: the tag that names the device', 'device')
    .addOption(
      new Option(
        '--precision <unit>',
        'unit of integer timestamps (default: ms for CSV, ns for line protocol)',
      ).choices(['ns', 'us', 'ms', 's']),
    )
    .addHelpText(
      'after',
      `
CSV needs a header row: timestamp,value (with --series DEVICE/METRIC) or
device,metric,timestamp,value with an optional tags column (k=v;k=v). Timestamps are
integers in --precision units or ISO 8601; values: numbers are floats, true/false booleans,
123i int64, anything else a string ("" an empty string).
Line protocol: each field becomes the metric measurement.field; the device is the tag named
by --device-tag; lines without a timestamp get the time the import started.
A bad line stops the import with its line number. Batches before it are already stored;
fix the line and run the same command again (writes are idempotent).`,
    )
    .action(async (file: string, opts: ImportFlags) => {
      await runImport(file, opts, out)
    })
}

interface SelectFlags {
  data: string
  tenant: string
  device?: string
  metric?: string
  tag: TagMatcher[]
  from?: TimeSpec
  to?: TimeSpec
  json?: boolean
}

function addSelectOptions(command: Command, metricRequired: boolean): Command {
  command
    .requiredOption('--data <dir>', 'the data folder')
    .option('--tenant <id>', 'the tenant', 'default')
    .option('--device <id>', 'only this device')
  if (metricRequired) command.requiredOption('--metric <name>', 'the metric')
  else command.option('--metric <name>', 'only this metric')
  return command
    .option('--tag <k=v>', 'only series with this tag (k=v or k!=v; repeatable)', collectTag, [])
    .option('--from <time>', `start, inclusive (${timeHelp})`, parseTimeFlag)
    .option('--to <time>', 'end, exclusive (default: now + 1h)', parseTimeFlag)
}

function selectorOf(flags: SelectFlags) {
  return {
    tenant: flags.tenant,
    ...(flags.device === undefined ? {} : { device: flags.device }),
    ...(flags.metric === undefined ? {} : { metric: flags.metric }),
    ...(flags.tag.length === 0 ? {} : { tags: flags.tag }),
  }
}

function addExport(parent: Command, out: Output, subcommand: SubcommandFactory): void {
  const command = subcommand(parent, 'export', out).description(
    'export points as CSV (device,metric,tags,timestamp,value; epoch ms) or line protocol (ns), streamed',
  )
  addSelectOptions(command, false)
    .addOption(formatOption('output format (default: from --output, else csv)'))
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (opts: SelectFlags & { format?: DataFormat; output?: string }) => {
      const now = Date.now()
      await runExport(
        {
          data: opts.data,
          selector: selectorOf(opts),
          from: opts.from === undefined ? 0 : resolveTime(opts.from, now),
          to: opts.to === undefined ? now + hourMs : resolveTime(opts.to, now),
          ...(opts.format === undefined ? {} : { format: opts.format }),
          ...(opts.output === undefined ? {} : { output: opts.output }),
          ...(opts.json === undefined ? {} : { json: opts.json }),
        },
        out,
      )
    })
}

interface QueryFlags extends SelectFlags {
  metric: string
  bucket?: number
  fn?: AggregateFunction[]
  groupBy?: string[]
  fill?: Fill
  latest?: boolean
  limit: number
  cursor?: string
}

function addQuery(parent: Command, out: Output, subcommand: SubcommandFactory): void {
  const command = subcommand(parent, 'query', out).description(
    'read one metric: raw points (a page of --limit), aggregates per --bucket, or the --latest value of each series',
  )
  addSelectOptions(command, true)
    .option(
      '--bucket <duration>',
      'aggregate per bucket of this width: 500ms, 30s, 5m, 1h, 1d',
      parseDuration,
    )
    .option(
      '--fn <list>',
      'aggregates: count,sum,min,max,mean,first,last,stddev,p50,p99 (default: mean)',
      list,
    )
    .option(
      '--group-by <tags>',
      'one group per value of these tags (default: one per series)',
      list,
    )
    .option('--fill <how>', 'empty buckets: none, null, previous, linear or a number', parseFill)
    .option('--latest', 'the newest point of each matched series')
    .option('--limit <n>', 'raw points per page (1-100000)', parseLimit, 1000)
    .option('--cursor <cursor>', 'the next page of a raw query, as printed by the previous one')
    .addHelpText('after', `\nTIME is ${timeHelp}; --from defaults to 24 hours ago.`)
    .action(async (opts: QueryFlags) => {
      const now = Date.now()
      const mode = opts.latest === true ? 'latest' : opts.bucket !== undefined ? 'aggregate' : 'raw'
      checkQueryFlags(opts, mode)
      await runQuery(
        {
          data: opts.data,
          selector: { ...selectorOf(opts), metric: opts.metric },
          from: opts.from === undefined ? now - 24 * hourMs : resolveTime(opts.from, now),
          to: opts.to === undefined ? now + hourMs : resolveTime(opts.to, now),
          ...(opts.latest === true && opts.to !== undefined
            ? { latestBefore: resolveTime(opts.to, now) }
            : {}),
          mode,
          limit: opts.limit,
          ...(opts.bucket === undefined ? {} : { bucketMs: opts.bucket }),
          ...(opts.fn === undefined ? {} : { functions: opts.fn }),
          ...(opts.groupBy === undefined ? {} : { groupBy: opts.groupBy }),
          ...(opts.fill === undefined ? {} : { fill: opts.fill }),
          ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
          ...(opts.json === undefined ? {} : { json: opts.json }),
        },
        out,
      )
    })
}

function checkQueryFlags(opts: QueryFlags, mode: 'raw' | 'aggregate' | 'latest'): void {
  const usage = (message: string, hint: string) => new CliError('CLI_USAGE', message, { hint })
  if (mode === 'latest' && opts.bucket !== undefined)
    throw usage('--latest and --bucket do not go together', 'Give one of them.')
  if (mode !== 'aggregate') {
    const stray = [
      opts.fn === undefined ? undefined : '--fn',
      opts.groupBy === undefined ? undefined : '--group-by',
      opts.fill === undefined ? undefined : '--fill',
    ].find((f) => f !== undefined)
    if (stray !== undefined)
      throw usage(
        `${stray} needs --bucket`,
        'Add --bucket DURATION, e.g. --bucket 5m --fn mean,max.',
      )
  }
}

function formatOption(description: string): Option {
  return new Option('--format <format>', description).choices(['csv', 'lp'])
}

function collectTag(value: string, previous: TagMatcher[]): TagMatcher[] {
  const match = /^([^=!]+)(!?=)(.*)$/.exec(value)
  if (match === null || match[3] === '')
    throw new InvalidArgumentError('expected name=value or name!=value')
  const [, name = '', op, tagValue = ''] = match
  return [...previous, { name, op: op === '!=' ? '!=' : '=', value: tagValue }]
}

function list<T extends string>(value: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list')
  return items as T[]
}

function parseFill(value: string): Fill {
  if (value === 'none' || value === 'null' || value === 'previous' || value === 'linear')
    return value
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError('expected none, null, previous, linear or a number')
  return n
}

const parseLimit = intOption(1, 100_000, 'expected a whole number from 1 to 100000')
