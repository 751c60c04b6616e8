import type { AnalyticsError } from '../errors.js'
import type { RuleOutput } from './cel-values.js'
import { createRuleEnvironment } from './expression-environment.js'
import { resolveExpressionLimits, type ExpressionLimitsInput } from './expression-limits.js'
import { parseLabelSelector, type LabelTerm } from './label-selector.js'
import type { RuleAction } from './rule-actions.js'
import { decodeRuleDefinition, type RuleDefinition } from './rule-definition.js'
import { compileInEnvironment } from './rule-expression.js'
import type { RuleContext, RuleMessage } from './rule-message.js'
import { operatorFields, RuleOperator, type OperatorOutput } from './rule-operator.js'
import { RuntimeRule, type SharedInput } from './runtime-rule.js'

/** The outcome of evaluating a rule on one message (or one heartbeat tick). Never thrown. */
export interface RuleResult {
  readonly deviceId: string
  /** The message's timestamp, or the tick's time. */
  readonly at: number
  /** The message passed the rule's `match` (kind, device labels, metrics). */
  readonly selected: boolean
  /** Selected, and the condition held (or there is none). */
  readonly matched: boolean
  /** When matched: the transform's output, or the payload without a transform. */
  readonly output?: RuleOutput
  /** When matched: the rule's actions, for the host to run. */
  readonly actions: readonly RuleAction[]
  /** The operators' outputs for this device after this message, by operator name. */
  readonly state: Readonly<Record<string, OperatorOutput>>
  /** The condition read a missing field, so it was false (not an error). */
  readonly missing?: string
  /** An operator input, the condition or the transform failed: report it, count it. */
  readonly error?: AnalyticsError
}

/** A rule compiled once; it owns its operators' state and nothing else. */
export interface CompiledRule {
  readonly definition: RuleDefinition
  readonly name: string
  /**
   * Runs the rule on one message: steps its operators, evaluates condition and transform. Rules
   * evaluating the same message can pass one `shared` object so its input is prepared once.
   */
  evaluate(message: RuleMessage, context?: RuleContext, shared?: SharedInput): RuleResult
  /**
   * Lets time pass to `now` for heartbeat operators: a result for each device that just fell
   * silent (payload `{}`, kind `tick`). `context` gives each device's labels and twin.
   */
  tick(now: number, context?: (deviceId: string) => RuleContext | undefined): RuleResult[]
  /**
   * The earliest time a heartbeat operator would find a device silent (epoch ms), for the host's
   * timer; undefined when the rule has no heartbeat or no device can fall silent.
   */
  nextDeadline(): number | undefined
  /** Devices tracked, evicted and refused, per operator. */
  stats(): Record<string, { keys: number; evicted: number; rejected: number }>
  /** Forgets all operator state. */
  reset(): void
}

/** Options for {@link compileRule}. */
export interface CompileRuleOptions {
  readonly limits?: ExpressionLimitsInput
}

/**
 * Validates a rule definition and compiles its expressions (operator inputs, condition,
 * transform) in one environment typed by its operators. Throws `ANALYTICS_RULE_INVALID` or an
 * expression error (`ANALYTICS_EXPRESSION_*`) whose message names the expression, e.g.
 * `condition at line 1, column 7: …`.
 *
 * @example
 * const rule = compileRule({
 *   name: 'hot', enabled: true,
 *   match: { topicKinds: ['telemetry'], metrics: ['temp'] },
 *   operators: [{ name: 'avg', type: 'window', mode: 'sliding', sizeMs: 300_000, metric: 'temp' }],
 *   condition: 'state.avg.mean > 30',
 *   actions: [{ type: 'alarm', name: 'overheat', severity: 'warning' }],
 * })
 * const result = rule.evaluate({ deviceId: 'pump-7', kind: 'telemetry', topic, ts, payload: { temp: 31 } })
 * if (result.matched) runActions(result.actions, result.output)
 */
export function compileRule(definition: unknown, options: CompileRuleOptions = {}): CompiledRule {
  const rule = decodeRuleDefinition(definition)
  const limits = resolveExpressionLimits(options.limits)
  const ops = rule.operators ?? []
  const renv = createRuleEnvironment(
    limits,
    Object.fromEntries(ops.map((o) => [o.name, operatorFields[o.type]])),
  )
  const operators = ops.map(
    (o, i) =>
      new RuleOperator(
        o,
        o.input === undefined
          ? undefined
          : compileInEnvironment(renv, o.input, 'value', `operators/${String(i)}/input`),
      ),
  )
  const condition =
    rule.condition === undefined
      ? undefined
      : compileInEnvironment(renv, rule.condition, 'condition', 'condition')
  const transform =
    rule.transform === undefined
      ? undefined
      : compileInEnvironment(renv, rule.transform, 'transform', 'transform')
  const selector: LabelTerm[] = (() => {
    const parsed = parseLabelSelector(rule.match?.devices ?? '')
    return parsed.ok ? parsed.terms : []
  })()
  return new RuntimeRule(rule, limits, operators, condition, transform, selector)
}
