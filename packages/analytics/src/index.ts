/**
 * `@strata/analytics`: streaming analytics that run unchanged on a gateway and in the cloud —
 * the rule expression language (CEL, type-checked, cost-bounded), the stateful stream operators
 * rules use, rule definitions with their dry run, and rule health (issue 8). The guide is
 * docs/rules.md.
 *
 * @example
 * import { compileRule, RuleHealth } from '@strata/analytics'
 *
 * const rule = compileRule({
 *   name: 'overheat', enabled: true,
 *   match: { topicKinds: ['telemetry'], metrics: ['temp'] },
 *   operators: [{ name: 'hot', type: 'forAtLeast', metric: 'temp', forMs: 300_000, above: 30, below: 28 }],
 *   condition: 'state.hot.active',
 *   actions: [{ type: 'alarm', name: 'overheat', severity: 'warning' }],
 * })
 * const health = new RuleHealth()
 * const result = rule.evaluate({ deviceId: 'pump-7', kind: 'telemetry', topic, ts, payload: { temp: 31 } })
 * health.record(result, ts)
 *
 * @packageDocumentation
 */
export { AnalyticsError, analyticsErrorCodes, type AnalyticsErrorCode } from './errors.js'

export {
  CompiledExpression,
  compileExpression,
  prepareExpressionInput,
  type CompileExpressionOptions,
  type DeviceFacts,
  type ExpressionInput,
  type ExpressionKind,
  type ExpressionResult,
  type ExpressionValue,
  type PreparedInput,
  type TwinFacts,
} from './rules/rule-expression.js'
export {
  defaultExpressionLimits,
  resolveExpressionLimits,
  type ExpressionLimits,
  type ExpressionLimitsInput,
} from './rules/expression-limits.js'
export {
  expressionVariables,
  type StateFieldType,
  type StateFieldTypes,
} from './rules/expression-environment.js'
export type { InputLimits, RuleOutput, RuleValue } from './rules/cel-values.js'
export {
  SafeRegex,
  defaultSafeRegexLimits,
  type SafeRegexLimits,
} from './rules/regex/safe-regex.js'

export {
  RuleDefinition,
  RuleMatch,
  RuleTopicKind,
  decodeRuleDefinition,
  ruleLimits,
} from './rules/rule-definition.js'
export {
  AlarmAction,
  AmqpAction,
  CommandAction,
  NatsAction,
  RepublishAction,
  RuleAction,
  SetDesiredAction,
  StoreAction,
  WebhookAction,
  type RuleActionType,
} from './rules/rule-actions.js'
export { OperatorDefinition, type OperatorType } from './rules/rule-operators.js'
export { operatorFields, type OperatorOutput, type StreamOperator } from './rules/rule-operator.js'
export {
  labelSelectorLimits,
  matchesLabelSelector,
  parseLabelSelector,
  type LabelTerm,
} from './rules/label-selector.js'
export { ruleMessagesOf, type RuleContext, type RuleMessage } from './rules/rule-message.js'
export {
  compileRule,
  type CompileRuleOptions,
  type CompiledRule,
  type RuleResult,
} from './rules/compile-rule.js'
export type { SharedInput } from './rules/runtime-rule.js'
export {
  dryRun,
  type DryRunOptions,
  type DryRunReport,
  type DryRunSample,
  type DryRunStep,
} from './rules/dry-run.js'
export {
  RuleHealth,
  defaultRuleHealthOptions,
  type RuleHealthOptions,
  type RuleHealthSnapshot,
  type RuleHealthStatus,
} from './rules/rule-health.js'

export { Deadband, type DeadbandOptions, type DeadbandOutput } from './operators/deadband.js'
export {
  Window,
  defaultWindowMaxPoints,
  type WindowMode,
  type WindowOptions,
  type WindowOutput,
} from './operators/window.js'
export {
  RateOfChange,
  type RateOfChangeOptions,
  type RateOfChangeOutput,
} from './operators/rate-of-change.js'
export {
  ForAtLeast,
  type ForAtLeastOptions,
  type ForAtLeastOutput,
} from './operators/for-at-least.js'
export { Heartbeat, type HeartbeatOptions, type HeartbeatOutput } from './operators/heartbeat.js'
export {
  KeyedState,
  defaultMaxKeys,
  type KeyOverflow,
  type KeyedStateOptions,
} from './operators/keyed-state.js'
