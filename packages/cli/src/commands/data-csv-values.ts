import type { Value } from '@strata/tsdb'
import { parseIsoTime } from './data-time.js'

/** The unit of integer timestamps in an imported file. */
export type TimePrecision = 'ns' | 'us' | 'ms' | 's'

const floatPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const intPattern = /^[+-]?\d+i$/

/**
 * A CSV value as the store keeps it: a number is a float, `true`/`false` a boolean, `123i` an
 * int64 and anything else a string. CSV carries no types, so a string that looks like one of
 * the others reads back as that type (line protocol keeps them apart).
 */
export function parseCsvValue(text: string): Value {
  if (floatPattern.test(text)) return Number(text)
  if (text === 'true' || text === 'false') return text === 'true'
  if (intPattern.test(text)) return BigInt(text.slice(0, -1))
  return text
}

/** A value written as {@link parseCsvValue} reads it back. */
export function formatCsvValue(value: Value): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value.toString()}i`
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return quoteCsvField(value, true)
}

/** A field quoted as RFC 4180 asks, when it must be (or always for an empty string value). */
export function quoteCsvField(text: string, quoteEmpty = false): string {
  if (text === '') return quoteEmpty ? '""' : ''
  if (/[",\r\n]/.test(text) || text.trim() !== text) return `"${text.replaceAll('"', '""')}"`
  return text
}

const perMs: Readonly<Record<TimePrecision, bigint>> = {
  ns: 1_000_000n,
  us: 1_000n,
  ms: 1n,
  s: 1n,
}

/**
 * Epoch ms of an integer timestamp in `precision` units (digits below the millisecond are
 * dropped, rounding down, as ingestion does), or undefined if it is not an integer.
 */
export function integerTimeToMs(text: string, precision: TimePrecision): number | undefined {
  if (!/^-?\d+$/.test(text)) return undefined
  return bigintTimeToMs(BigInt(text), precision)
}

/** Epoch ms of a timestamp in `precision` units, rounding down. */
export function bigintTimeToMs(time: bigint, precision: TimePrecision): number {
  if (precision === 's') return Number(time * 1000n)
  const unit = perMs[precision]
  const q = time / unit
  return Number(time % unit !== 0n && time < 0n ? q - 1n : q)
}

/** Epoch ms of a CSV timestamp: an integer in `precision` units or ISO 8601; undefined if neither. */
export function parseCsvTime(text: string, precision: TimePrecision): number | undefined {
  return integerTimeToMs(text, precision) ?? parseIsoTime(text)
}

/**
 * Tags written `k=v;k=v`; a backslash escapes `;`, `=` and itself, so any tag round-trips
 * through export and import. Returns an error message instead of tags when malformed.
 */
export function parseTagList(text: string): Record<string, string> | string {
  const tags: Record<string, string> = {}
  if (text === '') return tags
  let name: string | undefined
  let current = ''
  const finish = (): string | undefined => {
    if (name === undefined && current === '') return undefined // `a=1;` or `;;`
    if (name === undefined) return `tag ${JSON.stringify(current)} has no '=' (write name=value)`
    if (name === '') return 'a tag has an empty name'
    if (Object.hasOwn(tags, name)) return `tag ${JSON.stringify(name)} is given twice`
    tags[name] = current
    name = undefined
    current = ''
    return undefined
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\' && i + 1 < text.length) current += text[++i] as string
    else if (c === '=' && name === undefined) {
      name = current
      current = ''
    } else if (c === ';') {
      const problem = finish()
      if (problem !== undefined) return problem
    } else current += c
  }
  return finish() ?? tags
}

/** Tags as {@link parseTagList} reads them. */
export function formatTagList(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${escapeTag(k)}=${escapeTag(v)}`)
    .join(';')
}

function escapeTag(text: string): string {
  return text.replace(/[\\;=]/g, '\\$&')
}
