import type { Readable } from 'node:stream'
import { CsvError, parse, type Info } from 'csv-parse'
import { ProtocolError } from '@strata/protocol'
import { CliError } from '../errors.js'
import { parseCsvTime, parseCsvValue, parseTagList, type TimePrecision } from './data-csv-values.js'
import type { ImportSeries, ImportWriter } from './data-import-writer.js'

/** How CSV rows map onto series. */
export interface CsvImportOptions {
  readonly tenant: string
  /** `DEVICE/METRIC`, the series of a `timestamp,value` file. */
  readonly series?: string
  readonly precision: TimePrecision
}

/** Where each column is; device and metric are absent in a `timestamp,value` file. */
interface Columns {
  readonly timestamp: number
  readonly value: number
  readonly device?: number
  readonly metric?: number
  readonly tags?: number
  readonly count: number
}

/** An empty field written `""`: an empty string value, unlike an empty field (a missing value). */
const quotedEmpty = Symbol('quoted empty field')
type Field = string | typeof quotedEmpty

const known = new Set(['device', 'metric', 'tags', 'timestamp', 'value'])

/**
 * Imports CSV (RFC 4180: quoted fields, `""` escapes, line breaks in quotes, `\n` or `\r\n`)
 * with a header row: `timestamp,value` for one series (`--series DEVICE/METRIC`), or
 * `device,metric,timestamp,value` with an optional `tags` column (`k=v;k=v`), in any order.
 */
export async function importCsv(
  input: Readable,
  writer: ImportWriter,
  options: CsvImportOptions,
  onProgress: (bytesRead: number) => void,
): Promise<number> {
  const parser = input.pipe(
    parse({
      bom: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ['\r\n', '\n'],
      cast: (value, context) => (value === '' && context.quoting ? quotedEmpty : value),
    }),
  )
  input.on('error', (err) => parser.destroy(err))
  let columns: Columns | undefined
  let fixed: ImportSeries | undefined
  let line = 0
  let rows = 0
  try {
    for await (const row of parser as AsyncIterable<{ record: Field[]; info: Info }>) {
      line = row.info.lines
      if (columns === undefined) {
        columns = headerOf(row.record, line, writer)
        if (columns.device === undefined) fixed = fixedSeries(options, writer, line)
        continue
      }
      addRow(row.record, line, columns, fixed, writer, options)
      await writer.endLine(line)
      if (++rows % 1024 === 0) onProgress(row.info.bytes)
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err
    const at = typeof err.lines === 'number' ? err.lines : line + 1
    throw writer.lineError(
      at,
      new ProtocolError('PROTOCOL_MALFORMED', err.message.replace(/ (on|at) line \d+/, ''), {
        hint: 'Quote fields that hold commas, quotes or line breaks ("a ""quoted"" word").',
      }),
    )
  }
  if (columns === undefined) {
    throw writer.lineError(
      1,
      new ProtocolError('PROTOCOL_INVALID', 'the file is empty; a header row is required', {
        hint: 'Start the file with timestamp,value or device,metric,timestamp,value[,tags].',
      }),
    )
  }
  await writer.flush(line)
  return line
}

function headerOf(record: readonly Field[], line: number, writer: ImportWriter): Columns {
  const names = record.map((f) => (typeof f === 'string' ? f.toLowerCase() : ''))
  const index = (name: string) => {
    const i = names.indexOf(name)
    return i === -1 ? undefined : i
  }
  const unknown = names.filter((n) => !known.has(n))
  const timestamp = index('timestamp')
  const value = index('value')
  const device = index('device')
  const metric = index('metric')
  const tags = index('tags')
  const shapeOk =
    timestamp !== undefined &&
    value !== undefined &&
    (device === undefined) === (metric === undefined) &&
    (tags === undefined || device !== undefined) &&
    new Set(names).size === names.length
  if (unknown.length > 0 || !shapeOk) {
    throw writer.lineError(
      line,
      new ProtocolError(
        'PROTOCOL_INVALID',
        `the header ${JSON.stringify(record.map(String).join(','))} is not one the import reads${unknown.length > 0 ? ` (unknown column ${JSON.stringify(unknown[0])})` : ''}`,
        {
          hint: 'Start the file with a header row: timestamp,value (with --series DEVICE/METRIC) or device,metric,timestamp,value with an optional tags column (k=v;k=v).',
        },
      ),
    )
  }
  return {
    timestamp,
    value,
    ...(device === undefined ? {} : { device }),
    ...(metric === undefined ? {} : { metric }),
    ...(tags === undefined ? {} : { tags }),
    count: names.length,
  }
}

function fixedSeries(options: CsvImportOptions, writer: ImportWriter, line: number): ImportSeries {
  const slash = options.series?.indexOf('/') ?? -1
  if (options.series === undefined || slash <= 0 || slash === options.series.length - 1) {
    throw new CliError('CLI_USAGE', 'a timestamp,value file needs --series DEVICE/METRIC', {
      hint: 'Name the series the file holds, e.g. --series pump-7/temperature; or add device and metric columns.',
    })
  }
  const device = options.series.slice(0, slash)
  const metric = options.series.slice(slash + 1)
  return writer.seriesFor(
    `${device}\u001f${metric}`,
    () => ({ tenant: options.tenant, device, metric }),
    line,
  )
}

function addRow(
  record: readonly Field[],
  line: number,
  columns: Columns,
  fixed: ImportSeries | undefined,
  writer: ImportWriter,
  options: CsvImportOptions,
): void {
  const bad = (what: string, hint?: string) =>
    writer.lineError(
      line,
      new ProtocolError('PROTOCOL_INVALID', what, hint === undefined ? {} : { hint }),
    )
  if (record.length !== columns.count) {
    throw bad(
      `expected ${String(columns.count)} fields as in the header, found ${String(record.length)}`,
      'Quote fields that hold commas.',
    )
  }
  const field = (i: number | undefined): string => {
    const f = i === undefined ? '' : record[i]
    return f === quotedEmpty || f === undefined ? '' : f
  }
  const timeText = field(columns.timestamp)
  const time = parseCsvTime(timeText, options.precision)
  if (time === undefined) {
    throw bad(
      `timestamp ${JSON.stringify(timeText)} is neither an integer (${options.precision}) nor ISO 8601`,
      'Write epoch timestamps in the unit given by --precision, or ISO 8601 such as 2025-11-25T08:00:00Z.',
    )
  }
  const rawValue = record[columns.value]
  if (rawValue === '') throw bad('the value is empty (write "" for an empty string)')
  const value = rawValue === quotedEmpty || rawValue === undefined ? '' : parseCsvValue(rawValue)
  const series = fixed ?? rowSeries(field, columns, line, writer, options, bad)
  writer.add(series, time, value, line)
}

function rowSeries(
  field: (i: number | undefined) => string,
  columns: Columns,
  line: number,
  writer: ImportWriter,
  options: CsvImportOptions,
  bad: (what: string) => Error,
): ImportSeries {
  const device = field(columns.device)
  const metric = field(columns.metric)
  const tagText = field(columns.tags)
  return writer.seriesFor(
    `${device}\u001f${metric}\u001f${tagText}`,
    () => {
      const tags = parseTagList(tagText)
      if (typeof tags === 'string') throw bad(`tags ${JSON.stringify(tagText)}: ${tags}`)
      return { tenant: options.tenant, device, metric, tags }
    },
    line,
  )
}
