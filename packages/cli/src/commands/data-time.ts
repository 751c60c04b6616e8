import { InvalidArgumentError } from 'commander'

/** A time given on the command line: a fixed instant, or an offset from the moment the verb runs. */
export type TimeSpec =
  | { readonly kind: 'absolute'; readonly ms: number }
  | { readonly kind: 'relative'; readonly offsetMs: number }

const unitMs: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const durationPattern = /^(\d+)(ms|s|m|h|d|w)$/
const relativePattern = /^(?:now)?([+-])(\d+)(ms|s|m|h|d|w)$/
const isoPattern =
  /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/

/** `500ms`, `30s`, `5m`, `1h`, `1d`, `1w` in ms; a commander argument parser. */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim())
  const ms = match === null ? NaN : Number(match[1]) * (unitMs[match[2] ?? ''] ?? NaN)
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('expected a positive duration such as 500ms, 30s, 5m, 1h or 1d')
  return ms
}

/**
 * A TIME flag: ISO 8601 (a time without a zone is UTC), epoch ms, `now`, or relative to now
 * (`-15m`, `-2h`, `-7d`, `+1h`); a commander argument parser.
 */
export function parseTimeFlag(text: string): TimeSpec {
  const t = text.trim()
  if (t === 'now') return { kind: 'relative', offsetMs: 0 }
  const relative = relativePattern.exec(t)
  if (relative !== null) {
    const ms = Number(relative[2]) * (unitMs[relative[3] ?? ''] ?? NaN)
    return { kind: 'relative', offsetMs: relative[1] === '-' ? -ms : ms }
  }
  if (/^\d+$/.test(t)) {
    const ms = Number(t)
    if (Number.isSafeInteger(ms)) return { kind: 'absolute', ms }
  }
  const ms = parseIsoTime(t)
  if (ms !== undefined) return { kind: 'absolute', ms }
  throw new InvalidArgumentError(
    'expected ISO 8601 (2025-11-25T08:00:00Z), epoch ms, now, or a relative time such as -15m, -2h, -7d',
  )
}

/** The instant a TIME flag stands for, given the moment the verb started. */
export function resolveTime(spec: TimeSpec, nowMs: number): number {
  return spec.kind === 'absolute' ? spec.ms : nowMs + spec.offsetMs
}

/**
 * Epoch ms of an ISO 8601 date or date-time, or undefined if `text` is not one. A date-time
 * without a zone is read as UTC (JavaScript would read it as local time, which depends on the
 * machine); digits below the millisecond are dropped.
 */
export function parseIsoTime(text: string): number | undefined {
  const match = isoPattern.exec(text)
  if (match === null) return undefined
  const [, date, time, zone] = match
  let iso = date ?? ''
  if (time !== undefined) {
    const [hms = '', fraction] = time.split('.')
    iso += `T${hms}${fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`}`
    if (zone === undefined || zone === 'Z' || zone === 'z') iso += 'Z'
    else
      iso +=
        zone.length === 3
          ? `${zone}:00`
          : zone.includes(':')
            ? zone
            : `${zone.slice(0, 3)}:${zone.slice(3)}`
  }
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : ms
}
