import { TsdbError } from '../errors.js'
import type { RetentionRule, SeriesSelector } from './queries.js'
import { checkSelector, selectorDevices, selectorMatches } from './selector.js'
import type { SeriesKey } from './series.js'

/** Checks a rule to set (`maxAge: null` removes one); throws `TSDB_QUERY_INVALID`. */
export function checkRetentionRule(rule: {
  selector: SeriesSelector
  maxAge: number | null
}): void {
  checkSelector(rule.selector)
  if (rule.maxAge !== null && (!Number.isSafeInteger(rule.maxAge) || rule.maxAge <= 0)) {
    throw new TsdbError(
      'TSDB_QUERY_INVALID',
      'maxAge must be a positive integer duration in the store unit, or null',
    )
  }
}

/**
 * One text per selector, whatever order its devices and tag matchers were given in: setting a
 * rule for the same selector replaces the one before.
 */
export function retentionSelectorKey(selector: SeriesSelector): string {
  return JSON.stringify([
    selector.tenant,
    [...(selectorDevices(selector) ?? [])].sort(),
    selector.metric ?? null,
    (selector.tags ?? []).map((m) => JSON.stringify(m)).sort(),
  ])
}

/**
 * The max age that applies to a series: of the rules matching it, one naming a device, metric or
 * tags wins over one naming only the tenant; among equals, the shortest. Undefined: keep forever.
 */
export function retentionFor(
  rules: readonly RetentionRule[],
  key: Required<SeriesKey>,
): number | undefined {
  let best: { specific: boolean; maxAge: number } | undefined
  for (const rule of rules) {
    if (!selectorMatches(rule.selector, key)) continue
    const { device, metric, tags } = rule.selector
    const specific = device !== undefined || metric !== undefined || (tags?.length ?? 0) > 0
    if (
      best === undefined ||
      (specific && !best.specific) ||
      (specific === best.specific && rule.maxAge < best.maxAge)
    ) {
      best = { specific, maxAge: rule.maxAge }
    }
  }
  return best?.maxAge
}
