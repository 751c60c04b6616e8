import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname } from 'node:path'
import type { Readable } from 'node:stream'
import { CliError } from '../errors.js'
import { toJson, type Output } from '../output.js'
import type { TimePrecision } from './data-csv-values.js'
import { importCsv } from './data-import-csv.js'
import { importLineProtocol } from './data-import-lp.js'
import { ImportWriter } from './data-import-writer.js'
import { createProgress } from './data-progress.js'
import { withStore } from './data-store.js'

/** The file formats `strata data import` and `export` read and write. */
export type DataFormat = 'csv' | 'lp'

/** The flags of `strata data import`. */
export interface ImportOptions {
  readonly data: string
  readonly format?: DataFormat
  readonly tenant: string
  readonly series?: string
  readonly device?: string
  readonly deviceTag: string
  readonly precision?: TimePrecision
  readonly json?: boolean
}

/** What an import did. */
export interface ImportSummary {
  readonly file: string
  readonly format: DataFormat
  readonly tenant: string
  readonly lines: number
  readonly points: number
  readonly series: number
  readonly seconds: number
  readonly pointsPerSecond: number
}

const formatByExtension: Readonly<Record<string, DataFormat>> = {
  '.csv': 'csv',
  '.lp': 'lp',
  '.line': 'lp',
  '.influx': 'lp',
}

/** The format named by `--format`, else by the file's extension. */
export function formatOf(file: string, format: DataFormat | undefined): DataFormat {
  const found = format ?? formatByExtension[extname(file).toLowerCase()]
  if (found === undefined) {
    throw new CliError('CLI_USAGE', `cannot tell the format of ${file} from its name`, {
      hint: 'Pass --format csv or lp (or name the file .csv, .lp, .line or .influx).',
    })
  }
  return found
}

/**
 * `strata data import FILE --data DIR`: streams a CSV or line-protocol file into the embedded
 * store as backfill, in batches of about 50,000 points. Each batch is all-or-nothing and
 * durable once written; a bad line stops the import with its line number, and since writes are
 * idempotent the same import can simply be run again once the line is fixed.
 */
export async function runImport(
  file: string,
  options: ImportOptions,
  out: Output,
): Promise<ImportSummary> {
  const format = formatOf(file, options.format)
  const size = await fileSize(file)
  const started = Date.now()
  const json = options.json === true
  const summary = await withStore(options.data, true, async (store) => {
    const writer = new ImportWriter(store, file, started)
    const progress = createProgress(out, size, json)
    const input = createReadStream(file, { highWaterMark: 1 << 20 })
    const onProgress = (bytes: number) => progress.update(bytes, writer.points)
    try {
      const lines = await importStream(input, format, writer, options, started, onProgress)
      progress.update(size, writer.points)
      return { lines, points: writer.points, series: writer.series }
    } finally {
      progress.stop()
      input.destroy()
    }
  })
  const seconds = (Date.now() - started) / 1000
  const result: ImportSummary = {
    file,
    format,
    tenant: options.tenant,
    ...summary,
    seconds: Math.round(seconds * 1000) / 1000,
    pointsPerSecond: seconds > 0 ? Math.round(summary.points / seconds) : summary.points,
  }
  out.stdout.write(
    json
      ? `${toJson({ ok: true, ...result })}\n`
      : `imported ${result.points.toLocaleString('en')} points into ${result.series.toLocaleString('en')} series from ${file} in ${seconds.toFixed(1)} s (${result.pointsPerSecond.toLocaleString('en')} points/s)\n`,
  )
  return result
}

function importStream(
  input: Readable,
  format: DataFormat,
  writer: ImportWriter,
  options: ImportOptions,
  nowMs: number,
  onProgress: (bytes: number) => void,
): Promise<number> {
  if (format === 'csv') {
    return importCsv(
      input,
      writer,
      {
        tenant: options.tenant,
        precision: options.precision ?? 'ms',
        ...(options.series === undefined ? {} : { series: options.series }),
      },
      onProgress,
    )
  }
  return importLineProtocol(
    input,
    writer,
    {
      tenant: options.tenant,
      deviceTag: options.deviceTag,
      precision: options.precision ?? 'ns',
      nowMs,
      ...(options.device === undefined ? {} : { device: options.device }),
    },
    onProgress,
  )
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new Error('not a regular file')
    return info.size
  } catch (cause) {
    const reason = (cause as { code?: string }).code ?? (cause as Error).message
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${file}: ${reason}`, {
      hint: 'Check the path of the file to import.',
      cause,
    })
  }
}
