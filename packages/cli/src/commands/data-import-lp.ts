import type { Readable } from 'node:stream'
import {
  ProtocolError,
  isStrataError,
  parseLineProtocol,
  type LineFieldValue,
  type LinePoint,
} from '@strata/protocol'
import type { Value } from '@strata/tsdb'
import { bigintTimeToMs, type TimePrecision } from './data-csv-values.js'
import type { ImportWriter } from './data-import-writer.js'
import { readLineChunks, type LineChunk } from './data-line-chunks.js'

/** How line protocol maps onto series. */
export interface LineImportOptions {
  readonly tenant: string
  /** The tag that names the device (it is not kept as a series tag). */
  readonly deviceTag: string
  /** The device of lines without that tag. */
  readonly device?: string
  readonly precision: TimePrecision
  /** The time of lines without a timestamp: when the import started. */
  readonly nowMs: number
}

const int64Max = 2n ** 63n - 1n

/**
 * Imports InfluxDB line protocol as ingestion reads it (docs/protocol.md §5.2): each field of
 * measurement `m` is the metric `m.field`, tags stay tags except the device tag, timestamps
 * (default ns) become epoch ms rounding down.
 */
export async function importLineProtocol(
  input: Readable,
  writer: ImportWriter,
  options: LineImportOptions,
  onProgress: (bytesRead: number) => void,
): Promise<number> {
  let lastLine = 0
  for await (const chunk of readLineChunks(input, { maxLines: 10_000, maxBytes: 4 << 20 })) {
    const points = parseChunk(chunk, writer)
    const lineOf = (i: number) =>
      points.length === chunk.pointLines.length
        ? (chunk.pointLines[i] ?? chunk.lastLine)
        : chunk.lastLine
    for (let i = 0; i < points.length; i++) {
      const line = lineOf(i)
      addPoint(points[i] as LinePoint, line, writer, options)
      await writer.endLine(line)
    }
    lastLine = chunk.lastLine
    onProgress(chunk.bytesRead)
  }
  await writer.flush(lastLine)
  return lastLine
}

function parseChunk(chunk: LineChunk, writer: ImportWriter): LinePoint[] {
  try {
    return parseLineProtocol(chunk.bytes, {
      maxBytes: chunk.bytes.length,
      maxLines: chunk.lastLine - chunk.firstLine + 1,
      // The store's own limits (128-byte names, 256-byte strings) are checked per point later.
      maxStringBytes: 65_536,
    })
  } catch (err) {
    if (!isStrataError(err)) throw err
    const relative = err.details['line']
    const line = typeof relative === 'number' ? chunk.firstLine + relative - 1 : chunk.firstLine
    throw writer.lineError(line, err)
  }
}

function addPoint(
  point: LinePoint,
  line: number,
  writer: ImportWriter,
  options: LineImportOptions,
): void {
  let device = options.device
  const tags: Record<string, string> = {}
  let tagText = ''
  for (const [name, value] of point.tags) {
    if (name === options.deviceTag) device = value
    else {
      tags[name] = value
      tagText += `\u001f${name}\u001e${value}`
    }
  }
  if (device === undefined) {
    throw writer.lineError(
      line,
      new ProtocolError(
        'PROTOCOL_INVALID',
        `the point has no ${options.deviceTag} tag to name its device`,
        {
          hint: `Tag each line with ${options.deviceTag}=ID, name the tag with --device-tag, or give --device for every line.`,
        },
      ),
    )
  }
  const time =
    point.timestamp === undefined
      ? options.nowMs
      : bigintTimeToMs(point.timestamp, options.precision)
  for (const [field, fieldValue] of point.fields) {
    const metric = `${point.measurement}.${field}`
    const series = writer.seriesFor(
      `${device}\u001f${metric}${tagText}`,
      () => ({ tenant: options.tenant, device, metric, tags }),
      line,
    )
    writer.add(series, time, valueOf(fieldValue, metric, line, writer), line)
  }
}

function valueOf(field: LineFieldValue, metric: string, line: number, writer: ImportWriter): Value {
  if (field.type === 'unsigned' && field.value > int64Max) {
    throw writer.lineError(
      line,
      new ProtocolError(
        'PROTOCOL_UNSUPPORTED',
        `field ${metric}: unsigned ${field.value.toString()} exceeds int64`,
        { hint: 'Series hold int64; write larger values as floats.' },
      ),
    )
  }
  return field.value
}
