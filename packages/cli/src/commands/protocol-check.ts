import { extname } from 'node:path'
import {
  decodeDeviceMessage,
  parseTopicName,
  type DeviceMessage,
  type PayloadFormat,
  type TopicKind,
  type UpKind,
} from '@strata/protocol'
import { CliError } from '../errors.js'

/** What `strata protocol check` was asked to check. */
export interface CheckRequest {
  readonly file: string
  readonly format?: PayloadFormat
  readonly kind?: UpKind
  readonly topic?: string
  readonly precision?: 'ns' | 'us' | 'ms' | 's'
}

/** The kinds of payload a device sends, which `check --kind` accepts. */
export const checkableKinds: readonly UpKind[] = [
  'telemetry',
  'event',
  'twin.reported',
  'twin.get',
  'command.response',
  'firmware.progress',
  'firmware.get',
  'provisioning.request',
]

const formatByExtension: Record<string, PayloadFormat> = {
  '.json': 'json',
  '.cbor': 'cbor',
  '.lp': 'lp',
  '.line': 'lp',
  '.influx': 'lp',
}

/** Decides the payload kind and format: from `--topic`, else `--kind`/`--format` and the file name. */
export function resolveKindAndFormat(request: CheckRequest): {
  kind: TopicKind
  format: PayloadFormat
} {
  if (request.topic !== undefined) {
    const parsed = parseTopicName(request.topic)
    if (parsed === undefined || parsed.direction !== 'up') {
      throw new CliError('CLI_USAGE', `${request.topic} is not a topic devices publish on`, {
        hint: 'Use a topic such as strata/v1/devices/ID/telemetry/cbor; see `strata protocol topics ID`.',
      })
    }
    return { kind: parsed.kind, format: parsed.format }
  }
  const format = request.format ?? formatByExtension[extname(request.file).toLowerCase()]
  if (format === undefined) {
    throw new CliError('CLI_USAGE', `cannot tell the format of ${request.file} from its name`, {
      hint: 'Pass --format json, cbor or lp (or name the file .json, .cbor or .lp).',
    })
  }
  return { kind: request.kind ?? 'telemetry', format }
}

/** Decodes a payload exactly as the cloud would, throwing the same errors. */
export function checkPayload(
  payload: Uint8Array,
  request: CheckRequest,
): { kind: TopicKind; format: PayloadFormat; message: DeviceMessage } {
  const { kind, format } = resolveKindAndFormat(request)
  const options = request.precision === undefined ? {} : { precision: request.precision }
  return { kind, format, message: decodeDeviceMessage(kind, format, payload, options) }
}

/** One line that says what a valid payload holds. */
export function summarize(message: DeviceMessage, format: PayloadFormat, bytes: number): string {
  const where = `${message.kind} (${format}, ${String(bytes)} bytes)`
  if (message.kind !== 'telemetry') return `valid ${where}`
  const values = message.records.reduce((sum, r) => sum + Object.keys(r.values).length, 0)
  const stamps = message.records.flatMap((r) => (r.ts === undefined ? [] : [r.ts]))
  const span =
    stamps.length === 0
      ? 'no timestamps (the cloud stamps them on arrival)'
      : `${new Date(stamps.reduce((a, b) => Math.min(a, b))).toISOString()} .. ${new Date(stamps.reduce((a, b) => Math.max(a, b))).toISOString()}`
  return `valid ${where}: ${plural(message.records.length, 'record')}, ${plural(values, 'value')}, ${span}`
}

function plural(n: number, noun: string): string {
  return `${String(n)} ${noun}${n === 1 ? '' : 's'}`
}
