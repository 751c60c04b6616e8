import { matchesLabelSelector, parseLabelSelector, type LabelTerm } from '@strata/analytics'
import { isName } from '@strata/protocol'
import { CloudError } from '../errors.js'

/** One term of a label query: `key=value`, `key!=value`, `key` (has it), `!key` (lacks it). */
export type { LabelTerm }

/** Devices' labels: names to short strings. */
export type Labels = Readonly<Record<string, string>>

export const labelLimits = { maxLabels: 64, maxValueLength: 256, maxTerms: 16 } as const

/**
 * Parses a label query, Kubernetes-style: terms joined by `,`, all of which must hold, e.g.
 * `site=berlin,tier!=test,gpu`. Throws `CLOUD_INVALID` naming the bad term.
 *
 * @example
 * parseLabelQuery('site=berlin,!retired') // [{op:'eq',key:'site',value:'berlin'},{op:'lacks',key:'retired'}]
 */
export function parseLabelQuery(query: string): LabelTerm[] {
  // The syntax and its checks are the rules' label selector (packages/analytics); a query here
  // must name at least one term, where an empty selector means every device.
  if (query.trim() === '') throw invalid('', 'a label name is 1–128 of A–Z a–z 0–9 . _ -')
  if (query.split(',').length > labelLimits.maxTerms) {
    throw invalid(query, `more than ${String(labelLimits.maxTerms)} terms`)
  }
  const parsed = parseLabelSelector(query)
  if (!parsed.ok) throw labelQueryError(`label query ${parsed.reason}`)
  return parsed.terms
}

/** True when labels satisfy every term. */
export { matchesLabelSelector as matchesLabels }

/** The terms as an SQLite condition over a JSON `labels` column, with its parameters. */
export function labelQuerySql(
  column: string,
  terms: readonly LabelTerm[],
): { sql: string; params: string[] } {
  const sql: string[] = []
  const params: string[] = []
  for (const t of terms) {
    // Names are [A-Za-z0-9._-]: safe inside a quoted JSON path.
    const path = `json_extract(${column}, '$."${t.key}"')`
    if (t.op === 'eq') {
      sql.push(`${path} = ?`)
      params.push(t.value)
    } else if (t.op === 'ne') {
      sql.push(`${path} IS NOT ?`)
      params.push(t.value)
    } else sql.push(`${path} IS ${t.op === 'has' ? 'NOT ' : ''}NULL`)
  }
  return { sql: sql.length === 0 ? '1' : sql.join(' AND '), params }
}

/** Checks a labels object: names, value lengths, count. */
export function checkLabels(labels: Labels): void {
  const keys = Object.keys(labels)
  if (keys.length > labelLimits.maxLabels) {
    throw new CloudError(
      'CLOUD_INVALID',
      `a device has at most ${String(labelLimits.maxLabels)} labels`,
      { details: { field: 'labels' } },
    )
  }
  for (const k of keys) {
    const v = labels[k]
    if (!isName(k) || typeof v !== 'string' || v.length > labelLimits.maxValueLength) {
      throw new CloudError(
        'CLOUD_INVALID',
        `label ${JSON.stringify(k)}: a name of A–Z a–z 0–9 . _ - and a string value of at most 256 characters`,
        { details: { field: `labels/${k}` } },
      )
    }
  }
}

function invalid(part: string, why: string): CloudError {
  return labelQueryError(`label query term ${JSON.stringify(part)}: ${why}`)
}

function labelQueryError(message: string): CloudError {
  return new CloudError('CLOUD_INVALID', message, {
    hint: 'Write terms like site=berlin, tier!=test, gpu or !retired, joined by commas.',
    details: { field: 'labels' },
  })
}
