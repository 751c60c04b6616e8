import type { RuleDefinition } from '@strata/analytics'
import { CloudError } from '../errors.js'
import type { StoredRule } from './rule-types.js'

/** A row of `rules` (migration 6): the current version of each rule. */
export interface RuleRow {
  tenant_id: string
  name: string
  version: number
  enabled: number
  definition: string
  created_at: number
  updated_at: number
  updated_by: string
  disabled_reason: string | null
  disabled_at: number | null
}

/** A row of `rule_versions`: every version ever saved, deleted rules' too. */
export interface RuleVersionRow {
  tenant_id: string
  name: string
  version: number
  definition: string
  at: number
  by: string
  change: RuleChange
}

/** What made a version. */
export type RuleChange = 'create' | 'update' | 'enable' | 'disable' | 'disable-failures'

/** One saved version of a rule, as the versions API lists it. */
export interface RuleVersion {
  readonly version: number
  readonly definition: RuleDefinition
  readonly at: number
  /** Who saved it: `user:<id>`, `token:<id>`, or `system`. */
  readonly by: string
  readonly change: RuleChange
}

export function toStoredRule(row: RuleRow): StoredRule {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    version: row.version,
    enabled: row.enabled === 1,
    // Written by this store from a compiled definition: trusted as stored.
    definition: JSON.parse(row.definition) as RuleDefinition,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    ...(row.disabled_reason === null ? {} : { disabledReason: row.disabled_reason }),
    ...(row.disabled_at === null ? {} : { disabledAt: row.disabled_at }),
  }
}

export function toRuleVersion(row: RuleVersionRow): RuleVersion {
  return {
    version: row.version,
    definition: JSON.parse(row.definition) as RuleDefinition,
    at: row.at,
    by: row.by,
    change: row.change,
  }
}

/**
 * Throws `CLOUD_PRECONDITION_FAILED` unless `ifMatch` (an `If-Match` value: a version, quoted or
 * not, weak or not, a list of them, or `*`) names `version`.
 */
export function checkRuleIfMatch(ifMatch: string | undefined, name: string, version: number): void {
  if (ifMatch === undefined) return
  const ok = ifMatch.split(',').some((tag) => {
    const t = tag.trim()
    if (t === '*') return true
    const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(t)
    return m !== null && Number(m[1]) === version
  })
  if (!ok) {
    throw new CloudError(
      'CLOUD_PRECONDITION_FAILED',
      `If-Match ${JSON.stringify(ifMatch.slice(0, 80))} does not match rule ${name} at version ${String(version)}`,
      {
        hint: 'Read the rule again (GET /api/v1/rules/{name}), apply your change to it, and send If-Match with its ETag.',
        details: { version },
      },
    )
  }
}
