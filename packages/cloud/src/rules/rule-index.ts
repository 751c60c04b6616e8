import type { RuleDefinition, RuleTopicKind } from '@strata/analytics'

/** What the index needs of a rule: its definition's `match`. */
export interface IndexableRule {
  readonly definition: RuleDefinition
}

const allKinds: readonly RuleTopicKind[] = [
  'telemetry',
  'event',
  'twin.reported',
  'command.response',
  'firmware.progress',
]

/** One tenant's rules for one topic kind: those that look at any payload, and the rest by metric. */
interface KindRules<T> {
  readonly any: readonly T[]
  readonly byMetric: ReadonlyMap<string, readonly T[]>
}

const none: readonly never[] = []

/** One tenant's rules, and their per-kind index (rebuilt lazily after a change). */
class TenantRules<T extends IndexableRule> {
  readonly byName = new Map<string, T>()
  #kinds: Map<string, KindRules<T>> | undefined

  changed(): void {
    this.#kinds = undefined
  }

  kind(kind: string): KindRules<T> | undefined {
    this.#kinds ??= this.#build()
    return this.#kinds.get(kind)
  }

  #build(): Map<string, KindRules<T>> {
    const kinds = new Map<string, { any: T[]; byMetric: Map<string, T[]> }>()
    for (const rule of this.byName.values()) {
      const match = rule.definition.match
      for (const kind of match?.topicKinds ?? allKinds) {
        let k = kinds.get(kind)
        if (k === undefined) {
          k = { any: [], byMetric: new Map() }
          kinds.set(kind, k)
        }
        if (match?.metrics === undefined) {
          k.any.push(rule)
          continue
        }
        for (const metric of new Set(match.metrics)) {
          const list = k.byMetric.get(metric)
          if (list === undefined) k.byMetric.set(metric, [rule])
          else list.push(rule)
        }
      }
    }
    return kinds
  }
}

/**
 * The pre-filter in front of rule evaluation: a tenant's rules by topic kind and by the metrics
 * their `match` names, so a message reaches only the rules that could select it — one map lookup
 * when the tenant has no rules, a few more per payload field otherwise. The label selector and
 * everything else is left to the rule itself.
 *
 * @example
 * index.set('t1', 'hot', liveRule)
 * for (const rule of index.candidates('t1', 'telemetry', { temp: 31 })) rule.compiled.evaluate(…)
 */
export class RuleIndex<T extends IndexableRule> {
  readonly #tenants = new Map<string, TenantRules<T>>()

  /** Adds or replaces a rule; `undefined` removes it. */
  set(tenantId: string, name: string, rule: T | undefined): void {
    let tenant = this.#tenants.get(tenantId)
    if (rule === undefined) {
      if (tenant?.byName.delete(name) !== true) return
      if (tenant.byName.size === 0) this.#tenants.delete(tenantId)
      else tenant.changed()
      return
    }
    if (tenant === undefined) {
      tenant = new TenantRules<T>()
      this.#tenants.set(tenantId, tenant)
    }
    tenant.byName.set(name, rule)
    tenant.changed()
  }

  get(tenantId: string, name: string): T | undefined {
    return this.#tenants.get(tenantId)?.byName.get(name)
  }

  /** True when the tenant has a rule that may select messages of this kind. */
  hasKind(tenantId: string, kind: string): boolean {
    return this.#tenants.get(tenantId)?.kind(kind) !== undefined
  }

  /** Every rule, all tenants. */
  *all(): IterableIterator<T> {
    for (const tenant of this.#tenants.values()) yield* tenant.byName.values()
  }

  /**
   * The rules of the tenant that may select a message of `kind` with this payload: those without
   * `match.metrics`, and those naming a field the payload has. Each rule at most once.
   */
  candidates(
    tenantId: string,
    kind: string,
    payload: Readonly<Record<string, unknown>>,
  ): readonly T[] {
    const k = this.#tenants.get(tenantId)?.kind(kind)
    if (k === undefined) return none
    if (k.byMetric.size === 0) return k.any
    let out: T[] | undefined
    let lists = 0
    const add = (rules: readonly T[] | undefined) => {
      if (rules === undefined) return
      out ??= [...k.any]
      for (const r of rules) out.push(r)
      lists++
    }
    const keys = Object.keys(payload)
    if (keys.length <= k.byMetric.size) {
      for (const key of keys) add(k.byMetric.get(key))
    } else {
      for (const [metric, rules] of k.byMetric) if (Object.hasOwn(payload, metric)) add(rules)
    }
    if (out === undefined) return k.any
    return lists > 1 ? [...new Set(out)] : out
  }
}
