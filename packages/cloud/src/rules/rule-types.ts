/**
 * The contract between the rule store (CRUD, versions, audit) and the rule engine (evaluation,
 * actions, stats) in the cloud node. Issue 8.
 */
import type { RuleDefinition } from '@strata/analytics'

/** One saved rule of a tenant, at its current version. */
export interface StoredRule {
  readonly tenantId: string
  readonly name: string
  /** 1 on create, +1 on each update. */
  readonly version: number
  readonly enabled: boolean
  /** As saved (`definition.enabled` mirrors `enabled`). */
  readonly definition: RuleDefinition
  readonly createdAt: number
  readonly updatedAt: number
  /** User/token id, or 'system'. */
  readonly updatedBy: string
  /** Set when the engine disabled it after repeated failures. */
  readonly disabledReason?: string
  readonly disabledAt?: number
}

/** What the engine needs from the store. */
export interface RuleSource {
  /** Every tenant's rules, enabled or not. */
  all(): readonly StoredRule[]
  onChange(listener: (tenantId: string, name: string, rule: StoredRule | undefined) => void): void
  /** Disables a rule after repeated failures: audited, `disabledReason` set. */
  disableForFailures(tenantId: string, name: string, reason: string, at: number): void
}

/** Per-rule counters and health, kept in memory by the engine. */
export interface RuleStats {
  readonly evaluations: number
  readonly selected: number
  readonly matched: number
  readonly errors: number
  readonly actionsRun: number
  readonly actionsFailed: number
  /** Evaluations/s of selected messages over the last 60 s. */
  readonly ratePerSecond: number
  /** Per evaluation, recent. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number }
  readonly lastMatchAt?: number
  readonly health: 'ok' | 'failing' | 'disabled'
  readonly deadLetters: number
}

/** What the API needs from the engine. */
export interface RuleStatsSource {
  statsOf(tenantId: string, name: string): RuleStats | undefined
}
