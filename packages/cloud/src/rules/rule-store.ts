import type { RuleDefinition } from '@strata/analytics'
import type { Logger } from 'pino'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import type { AddressPolicy, ResolveHost } from './delivery/index.js'
import {
  checkRuleIfMatch,
  toRuleVersion,
  toStoredRule,
  type RuleChange,
  type RuleRow,
  type RuleVersion,
  type RuleVersionRow,
} from './rule-records.js'
import { restoreSecrets } from './rule-secrets.js'
import type { RuleSource, StoredRule } from './rule-types.js'
import { checkDefinition } from './rule-validation.js'

export interface RuleStoreOptions {
  /** Rules a tenant may hold at most (default 1,000); creating one more is `CLOUD_CONFLICT`. */
  readonly maxRulesPerTenant: number
}

export const defaultRuleStoreOptions: RuleStoreOptions = { maxRulesPerTenant: 1_000 }

export interface RuleStoreDeps {
  readonly db: StateDb
  readonly audit: AuditLog
  readonly clock: () => number
  /** Which addresses webhook, AMQP and NATS actions may reach; checked when a rule is saved. */
  readonly policy: AddressPolicy
  /** Host name resolution for that check (DNS by default). */
  readonly resolve?: ResolveHost
  readonly log?: Logger
}

type ChangeListener = (tenantId: string, name: string, rule: StoredRule | undefined) => void

/**
 * The tenants' rules (migration 6): the current version of each, every version ever saved (kept
 * after a delete, for the audit), and the audit entry of every change. A rule is compiled and its
 * network targets checked before it is saved; a write may send `"********"` for a secret to keep
 * the saved one (rule-secrets.ts). Keeps every rule in memory for the engine ({@link RuleSource}).
 *
 * @example
 * const rules = new RuleStore({ db, audit, clock, policy: { allowPrivateNetworks: false } })
 * rules.onChange((tenant, name, rule) => engine.reload(tenant, name, rule))
 * await rules.create(principal, { name: 'hot', enabled: true, condition: 'payload.temp > 30.0', actions: [] })
 */
export class RuleStore implements RuleSource {
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #policy: AddressPolicy
  readonly #resolve: ResolveHost | undefined
  readonly #log: Logger | undefined
  readonly #options: RuleStoreOptions
  readonly #listeners: ChangeListener[] = []
  /** Every tenant's rules by `tenant \0 name`; the database is the truth, this its mirror. */
  readonly #rules = new Map<string, StoredRule>()

  constructor(deps: RuleStoreDeps, options: Partial<RuleStoreOptions> = {}) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#policy = deps.policy
    this.#resolve = deps.resolve
    this.#log = deps.log?.child({ component: 'rules' })
    this.#options = { ...defaultRuleStoreOptions, ...options }
    for (const row of this.#db.prepare('SELECT * FROM rules').all() as RuleRow[]) {
      const rule = toStoredRule(row)
      this.#rules.set(keyOf(rule.tenantId, rule.name), rule)
    }
  }

  /** Every tenant's rules, enabled or not. */
  all(): readonly StoredRule[] {
    return [...this.#rules.values()]
  }

  /** Called after each change is committed, with the rule now (undefined once deleted). */
  onChange(listener: ChangeListener): void {
    this.#listeners.push(listener)
  }

  /** The tenant's rules in name order. */
  list(principal: Principal): StoredRule[] {
    requirePermission(principal, 'rules:read')
    return this.all()
      .filter((r) => r.tenantId === principal.tenantId)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  get(principal: Principal, name: string): StoredRule {
    requirePermission(principal, 'rules:read')
    return this.#own(principal.tenantId, name)
  }

  /** Saves a new rule at version 1 (or after the versions of a deleted rule of that name). */
  async create(principal: Principal, raw: unknown): Promise<StoredRule> {
    requirePermission(principal, 'rules:write')
    const named = nameOf(raw)
    if (named !== undefined) this.#assertAbsent(principal.tenantId, named)
    const definition = await this.#check(restoreSecrets(raw, undefined))
    return this.#commit(principal.tenantId, definition.name, () => {
      this.#assertAbsent(principal.tenantId, definition.name)
      const count = this.#db
        .prepare('SELECT count(*) FROM rules WHERE tenant_id = ?')
        .pluck()
        .get(principal.tenantId) as number
      if (count >= this.#options.maxRulesPerTenant) {
        throw new CloudError(
          'CLOUD_CONFLICT',
          `your tenant has ${String(count)} rules, the most it may have (${String(this.#options.maxRulesPerTenant)})`,
          {
            hint: 'Delete rules you no longer need, or merge rules that watch the same messages.',
            details: { limit: this.#options.maxRulesPerTenant },
          },
        )
      }
      const last = this.#db
        .prepare('SELECT max(version) FROM rule_versions WHERE tenant_id = ? AND name = ?')
        .pluck()
        .get(principal.tenantId, definition.name) as number | null
      const now = this.#clock()
      const rule: StoredRule = {
        tenantId: principal.tenantId,
        name: definition.name,
        version: (last ?? 0) + 1,
        enabled: definition.enabled,
        definition,
        createdAt: now,
        updatedAt: now,
        updatedBy: principal.actor,
      }
      this.#save(rule, 'create', principal.actor)
      return rule
    })
  }

  /**
   * Replaces a rule's definition (its name must stay): version + 1. With `ifMatch`, refuses with
   * `CLOUD_PRECONDITION_FAILED` unless the rule is at that version. Enabling clears the reason a
   * rule was disabled for.
   */
  async update(
    principal: Principal,
    name: string,
    raw: unknown,
    options: { readonly ifMatch?: string } = {},
  ): Promise<StoredRule> {
    requirePermission(principal, 'rules:write')
    const current = this.#own(principal.tenantId, name)
    checkRuleIfMatch(options.ifMatch, name, current.version)
    const named = nameOf(raw)
    if (named !== undefined && named !== name) {
      const message = `is ${JSON.stringify(named.slice(0, 130))}, not the rule's name ${name}`
      throw new CloudError('CLOUD_INVALID', `rule: /name ${message}`, {
        hint: 'A rule keeps its name: create a rule under the new name and delete this one.',
        details: { field: '/name', violations: [{ path: '/name', message }] },
      })
    }
    const definition = await this.#check(restoreSecrets(raw, current.definition))
    return this.#commit(principal.tenantId, name, () => {
      const now = this.#current(principal.tenantId, name, current.version, options.ifMatch)
      return this.#replace(now, definition, 'update', principal.actor)
    })
  }

  /** Enables or disables a rule: a new version with `definition.enabled` set. */
  setEnabled(principal: Principal, name: string, enabled: boolean): StoredRule {
    requirePermission(principal, 'rules:write')
    return this.#commit(principal.tenantId, name, () => {
      const now = this.#own(principal.tenantId, name)
      return this.#replace(
        now,
        { ...now.definition, enabled },
        enabled ? 'enable' : 'disable',
        principal.actor,
      )
    })
  }

  /** Deletes a rule; its versions stay readable (`versions`) and its audit entries stay. */
  delete(principal: Principal, name: string): void {
    requirePermission(principal, 'rules:write')
    this.#commit(principal.tenantId, name, () => {
      const rule = this.#own(principal.tenantId, name)
      this.#db
        .prepare('DELETE FROM rules WHERE tenant_id = ? AND name = ?')
        .run(principal.tenantId, name)
      this.#audited(principal.tenantId, principal.actor, 'rule.delete', name, {
        version: rule.version,
      })
      return undefined
    })
  }

  /** Disables a rule after repeated failures: audited as `system`, `disabledReason` set. */
  disableForFailures(tenantId: string, name: string, reason: string, at: number): void {
    const rule = this.#rules.get(keyOf(tenantId, name))
    if (rule?.enabled !== true) return
    this.#commit(tenantId, name, () => {
      const now = this.#rules.get(keyOf(tenantId, name))
      if (now?.enabled !== true) return now
      return this.#replace(
        now,
        { ...now.definition, enabled: false },
        'disable-failures',
        'system',
        {
          reason: reason.slice(0, 1024),
          at,
        },
      )
    })
  }

  /** The versions of a rule (a deleted one's too), newest first. */
  versions(principal: Principal, name: string, q: { limit: number }): RuleVersion[] {
    requirePermission(principal, 'rules:read')
    const rows = this.#db
      .prepare(
        'SELECT * FROM rule_versions WHERE tenant_id = ? AND name = ? ORDER BY version DESC LIMIT ?',
      )
      .all(principal.tenantId, name, q.limit) as RuleVersionRow[]
    if (rows.length === 0) throw notFound('rule', name)
    return rows.map(toRuleVersion)
  }

  version(principal: Principal, name: string, version: number): RuleVersion {
    requirePermission(principal, 'rules:read')
    const row = this.#db
      .prepare('SELECT * FROM rule_versions WHERE tenant_id = ? AND name = ? AND version = ?')
      .get(principal.tenantId, name, version) as RuleVersionRow | undefined
    if (row === undefined) throw notFound('rule version', `${name}@${String(version)}`)
    return toRuleVersion(row)
  }

  async #check(raw: unknown): Promise<RuleDefinition> {
    return this.#resolve === undefined
      ? checkDefinition(raw, this.#policy)
      : checkDefinition(raw, this.#policy, this.#resolve)
  }

  /** Runs a change in one transaction, mirrors it, then tells the listeners. */
  #commit(tenantId: string, name: string, change: () => StoredRule | undefined): StoredRule {
    const rule = this.#db.transaction(change)()
    const key = keyOf(tenantId, name)
    if (rule === undefined) this.#rules.delete(key)
    else this.#rules.set(key, rule)
    for (const listener of this.#listeners) {
      try {
        listener(tenantId, name, rule)
      } catch (err) {
        this.#log?.error({ err, tenantId, rule: name }, 'rule change listener failed')
      }
    }
    return rule as StoredRule
  }

  /** The next version of `now` with `definition`; enabling clears why it was disabled. */
  #replace(
    now: StoredRule,
    definition: RuleDefinition,
    change: RuleChange,
    actor: string,
    failure?: { reason: string; at: number },
  ): StoredRule {
    const at = failure?.at ?? this.#clock()
    const { disabledReason: _r, disabledAt: _a, ...rest } = now
    const keepDisabled = !definition.enabled && now.disabledReason !== undefined
    const rule: StoredRule = {
      ...rest,
      version: now.version + 1,
      enabled: definition.enabled,
      definition,
      updatedAt: at,
      updatedBy: actor,
      ...(failure !== undefined
        ? { disabledReason: failure.reason, disabledAt: failure.at }
        : keepDisabled
          ? {
              disabledReason: now.disabledReason,
              ...(now.disabledAt === undefined ? {} : { disabledAt: now.disabledAt }),
            }
          : {}),
    }
    this.#save(rule, change, actor)
    return rule
  }

  /** Writes the rule's row and its version row, and audits the change. */
  #save(rule: StoredRule, change: RuleChange, actor: string): void {
    const definition = JSON.stringify(rule.definition)
    this.#db
      .prepare(
        `INSERT INTO rules (tenant_id, name, version, enabled, definition, created_at, updated_at,
           updated_by, disabled_reason, disabled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, name) DO UPDATE SET version = excluded.version,
           enabled = excluded.enabled, definition = excluded.definition,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by,
           disabled_reason = excluded.disabled_reason, disabled_at = excluded.disabled_at`,
      )
      .run(
        rule.tenantId,
        rule.name,
        rule.version,
        rule.enabled ? 1 : 0,
        definition,
        rule.createdAt,
        rule.updatedAt,
        rule.updatedBy,
        rule.disabledReason ?? null,
        rule.disabledAt ?? null,
      )
    this.#db
      .prepare(
        `INSERT INTO rule_versions (tenant_id, name, version, definition, at, by, change)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(rule.tenantId, rule.name, rule.version, definition, rule.updatedAt, actor, change)
    this.#audited(rule.tenantId, actor, `rule.${change}`, rule.name, {
      version: rule.version,
      enabled: rule.enabled,
      ...(change === 'disable-failures' ? { reason: rule.disabledReason } : {}),
    })
  }

  /** The rule as it is inside the transaction, unchanged since `version` was read. */
  #current(tenantId: string, name: string, version: number, ifMatch?: string): StoredRule {
    const now = this.#own(tenantId, name)
    if (now.version === version) return now
    if (ifMatch !== undefined) checkRuleIfMatch(ifMatch, name, now.version)
    throw new CloudError(
      'CLOUD_CONFLICT',
      `rule ${name} changed (version ${String(now.version)}) while this write was checked`,
      { hint: 'Send the write again.', retryable: true, details: { version: now.version } },
    )
  }

  #own(tenantId: string, name: string): StoredRule {
    const rule = this.#rules.get(keyOf(tenantId, name))
    if (rule === undefined) throw notFound('rule', name)
    return rule
  }

  #assertAbsent(tenantId: string, name: string): void {
    if (this.#rules.has(keyOf(tenantId, name))) {
      throw new CloudError('CLOUD_CONFLICT', `rule ${name} exists`, {
        hint: 'Change it with PUT /api/v1/rules/{name}, or choose another name.',
      })
    }
  }

  #audited(
    tenantId: string,
    actor: string,
    action: string,
    name: string,
    details: Record<string, unknown>,
  ): void {
    this.#audit.append({
      tenantId,
      actor,
      action,
      target: `rule:${name}`,
      outcome: 'ok',
      details,
    })
  }
}

function keyOf(tenantId: string, name: string): string {
  return `${tenantId}\u0000${name}`
}

/** The `name` of a raw body, when it has a string one. */
function nameOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const name = (raw as { name?: unknown }).name
  return typeof name === 'string' ? name : undefined
}
