import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { extname } from 'node:path'
import {
  ProtocolError,
  formatLineProtocol,
  type LineFieldValue,
  type LinePoint,
} from '@strata/protocol'
import type { SeriesPoints, SeriesSelector, Value } from '@strata/tsdb'
import { CliError } from '../errors.js'
import { toJson, type Output } from '../output.js'
import { formatCsvValue, formatTagList, quoteCsvField } from './data-csv-values.js'
import type { DataFormat } from './data-import.js'
import { withStore } from './data-store.js'

/** The flags of `strata data export`, with times resolved. */
export interface ExportOptions {
  readonly data: string
  readonly selector: SeriesSelector
  readonly from: number
  readonly to: number
  readonly format?: DataFormat
  readonly output?: string
  readonly json?: boolean
}

/** The header of an exported CSV file; `strata data import` reads it back. */
export const exportCsvHeader = 'device,metric,tags,timestamp,value'

/** Points per page read from the store: one page of one series is formatted at a time. */
const pageSize = 10_000

/**
 * `strata data export --data DIR`: streams the selected points, series by series, as CSV
 * (`device,metric,tags,timestamp,value`, epoch ms) or line protocol (ns timestamps, InfluxDB's
 * default), to `--output FILE` or standard output. Never holds more than one page in memory and
 * waits for the output to drain.
 */
export async function runExport(options: ExportOptions, out: Output): Promise<void> {
  const format = options.format ?? exportFormatOf(options.output)
  const started = Date.now()
  const totals = await withStore(options.data, false, async (store) => {
    // Opened only once the store is: a failed export of a missing store leaves no empty file.
    const sink = new TextSink(
      options.output === undefined ? out.stdout : createWriteStream(options.output),
      options.output ?? 'standard output',
    )
    let points = 0
    const seen = new Set<string>()
    try {
      if (format === 'csv') await sink.write(`${exportCsvHeader}\n`)
      const query = {
        selector: options.selector,
        from: options.from,
        to: options.to,
        limit: pageSize,
      }
      for await (const s of store.readAll(query)) {
        await sink.write(format === 'csv' ? csvLines(s) : lineProtocolLines(s))
        points += s.times.length
        seen.add(JSON.stringify([s.key.device, s.key.metric, s.key.tags]))
      }
    } finally {
      await sink.end(options.output !== undefined)
    }
    return { points, series: seen.size }
  })
  if (options.output === undefined) return
  const seconds = (Date.now() - started) / 1000
  const summary = {
    file: options.output,
    format,
    ...totals,
    seconds: Math.round(seconds * 1000) / 1000,
  }
  out.stdout.write(
    options.json === true
      ? `${toJson({ ok: true, ...summary })}\n`
      : `exported ${totals.points.toLocaleString('en')} points of ${totals.series.toLocaleString('en')} series to ${options.output} in ${seconds.toFixed(1)} s\n`,
  )
}

function exportFormatOf(output: string | undefined): DataFormat {
  if (output === undefined) return 'csv'
  const ext = extname(output).toLowerCase()
  return ext === '.lp' || ext === '.line' || ext === '.influx' ? 'lp' : 'csv'
}

function csvLines(s: SeriesPoints): string {
  const prefix = `${quoteCsvField(s.key.device)},${quoteCsvField(s.key.metric)},${quoteCsvField(formatTagList(s.key.tags))},`
  let text = ''
  for (let i = 0; i < s.times.length; i++)
    text += `${prefix}${String(s.times[i])},${formatCsvValue(s.values[i] as Value)}\n`
  return text
}

/**
 * One line per point: metric `a.b` is measurement `a`, field `b` (split at the last dot, as the
 * import joins them); a metric without a dot is measurement = metric, field `value`. The device
 * is the `device` tag; timestamps are ns so an import with the default precision is exact.
 */
function lineProtocolLines(s: SeriesPoints): string {
  const { device, metric, tags } = s.key
  if (Object.hasOwn(tags, 'device')) {
    throw new ProtocolError(
      'PROTOCOL_UNSUPPORTED',
      `series ${device}/${metric} has a tag named device, which line protocol export uses for the device id`,
      { hint: 'Export this series as CSV (--format csv).' },
    )
  }
  const dot = metric.lastIndexOf('.')
  const split = dot > 0 && dot < metric.length - 1
  const measurement = split ? metric.slice(0, dot) : metric
  const field = split ? metric.slice(dot + 1) : 'value'
  const lineTags: [string, string][] = [['device', device], ...Object.entries(tags)]
  const points: LinePoint[] = s.times.map((time, i) => ({
    measurement,
    tags: lineTags,
    fields: [[field, fieldOf(s.values[i] as Value)]],
    timestamp: BigInt(time) * 1_000_000n,
  }))
  return `${formatLineProtocol(points)}\n`
}

function fieldOf(value: Value): LineFieldValue {
  if (typeof value === 'number') return { type: 'float', value }
  if (typeof value === 'bigint') return { type: 'integer', value }
  if (typeof value === 'boolean') return { type: 'boolean', value }
  return { type: 'string', value }
}

/** Text to a stream, waiting for `drain` when it is full, failing if the stream fails. */
class TextSink {
  readonly #stream: NodeJS.WritableStream
  readonly #name: string
  #error: Error | undefined

  constructor(stream: NodeJS.WritableStream, name: string) {
    this.#stream = stream
    this.#name = name
    stream.on('error', (err: Error) => {
      this.#error = err
    })
  }

  async write(text: string): Promise<void> {
    this.#check()
    if (text === '') return
    if (!this.#stream.write(text))
      await once(this.#stream, 'drain').catch((err: unknown) => this.#fail(err))
    this.#check()
  }

  /** Ends a file (`close`), or just checks standard output, which stays open. */
  async end(close: boolean): Promise<void> {
    if (!close) {
      this.#check()
      return
    }
    if (this.#error === undefined) {
      this.#stream.end()
      await once(this.#stream, 'close').catch((err: unknown) => this.#fail(err))
    }
    this.#check()
  }

  #check(): void {
    if (this.#error !== undefined) this.#fail(this.#error)
  }

  #fail(err: unknown): never {
    const reason = (err as { code?: string }).code ?? String(err)
    throw new CliError('CLI_FILE_UNREADABLE', `cannot write ${this.#name}: ${reason}`, {
      hint: 'Check the --output path: its folder must exist and be writable.',
      cause: err,
    })
  }
}
