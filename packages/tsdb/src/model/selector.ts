import { TsdbError } from '../errors.js'
import type { SeriesSelector, TagMatcher } from './queries.js'
import type { SeriesKey } from './series.js'

/** Checks a selector's shape; throws `TSDB_QUERY_INVALID`. */
export function checkSelector(selector: SeriesSelector): void {
  if (
    typeof selector !== 'object' ||
    typeof selector.tenant !== 'string' ||
    selector.tenant === ''
  ) {
    throw new TsdbError('TSDB_QUERY_INVALID', 'a selector names its tenant')
  }
  for (const matcher of selector.tags ?? []) {
    const ok =
      ((matcher.op === '=' || matcher.op === '!=') && typeof matcher.value === 'string') ||
      ((matcher.op === 'in' || matcher.op === 'not in') && Array.isArray(matcher.values)) ||
      matcher.op === 'exists' ||
      matcher.op === 'absent'
    if (!ok || typeof matcher.name !== 'string') {
      throw new TsdbError('TSDB_QUERY_INVALID', `bad tag matcher ${JSON.stringify(matcher)}`, {
        hint: "Use { name, op: '=' | '!=', value }, { name, op: 'in' | 'not in', values } or { name, op: 'exists' | 'absent' }.",
      })
    }
  }
}

/** The devices a selector names, as a list, or undefined for any device. */
export function selectorDevices(selector: SeriesSelector): readonly string[] | undefined {
  if (selector.device === undefined) return undefined
  return typeof selector.device === 'string' ? [selector.device] : selector.device
}

function tagMatches(tags: Readonly<Record<string, string>>, matcher: TagMatcher): boolean {
  const value = Object.hasOwn(tags, matcher.name) ? tags[matcher.name] : undefined
  switch (matcher.op) {
    case '=':
      return value === matcher.value
    case '!=':
      return value !== matcher.value
    case 'in':
      return value !== undefined && matcher.values.includes(value)
    case 'not in':
      return value === undefined || !matcher.values.includes(value)
    case 'exists':
      return value !== undefined
    case 'absent':
      return value === undefined
  }
}

/** Whether a series key is one the selector matches. */
export function selectorMatches(selector: SeriesSelector, key: Required<SeriesKey>): boolean {
  if (key.tenant !== selector.tenant) return false
  if (selector.metric !== undefined && key.metric !== selector.metric) return false
  const devices = selectorDevices(selector)
  if (devices !== undefined && !devices.includes(key.device)) return false
  return (selector.tags ?? []).every((m) => tagMatches(key.tags, m))
}
