import { isName } from '@strata/protocol'

/** One term of a label selector: `key=value`, `key!=value`, `key` (has it), `!key` (lacks it). */
export type LabelTerm =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'has' | 'lacks'; readonly key: string }

export const labelSelectorLimits = { maxTerms: 16, maxValueLength: 256 } as const

/**
 * Parses a device label selector — the same syntax as the cloud's device groups and `?labels=`:
 * terms joined by `,`, all of which must hold, e.g. `site=berlin,tier!=test,gpu,!retired`. An
 * empty selector matches every device. Returns the terms, or the reason it is refused.
 *
 * @example
 * parseLabelSelector('site=berlin,!retired')
 * // { ok: true, terms: [{ op: 'eq', key: 'site', value: 'berlin' }, { op: 'lacks', key: 'retired' }] }
 */
export function parseLabelSelector(
  selector: string,
): { ok: true; terms: LabelTerm[] } | { ok: false; reason: string } {
  if (selector.trim() === '') return { ok: true, terms: [] }
  const parts = selector.split(',').map((p) => p.trim())
  if (parts.length > labelSelectorLimits.maxTerms) {
    return { ok: false, reason: `more than ${String(labelSelectorLimits.maxTerms)} terms` }
  }
  const terms: LabelTerm[] = []
  for (const part of parts) {
    const ne = part.indexOf('!=')
    const eq = part.indexOf('=')
    let term: LabelTerm
    if (ne > 0) term = { op: 'ne', key: part.slice(0, ne).trim(), value: part.slice(ne + 2).trim() }
    else if (eq > 0)
      term = { op: 'eq', key: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() }
    else if (part.startsWith('!')) term = { op: 'lacks', key: part.slice(1).trim() }
    else term = { op: 'has', key: part }
    if (!isName(term.key)) {
      return {
        ok: false,
        reason: `term ${JSON.stringify(part)}: a label name is 1–128 of A–Z a–z 0–9 . _ -`,
      }
    }
    if ('value' in term && term.value.length > labelSelectorLimits.maxValueLength) {
      return { ok: false, reason: `term ${JSON.stringify(part)}: the value is over 256 characters` }
    }
    terms.push(term)
  }
  return { ok: true, terms }
}

/**
 * True when `labels` satisfy every term (own keys only).
 *
 * @example
 * const s = parseLabelSelector('site=berlin,!retired')
 * s.ok && matchesLabelSelector({ site: 'berlin' }, s.terms) // true
 */
export function matchesLabelSelector(
  labels: Readonly<Record<string, string>>,
  terms: readonly LabelTerm[],
): boolean {
  return terms.every((t) => {
    const v = Object.hasOwn(labels, t.key) ? labels[t.key] : undefined
    switch (t.op) {
      case 'eq':
        return v === t.value
      case 'ne':
        return v !== t.value
      case 'has':
        return v !== undefined
      case 'lacks':
        return v === undefined
    }
  })
}
