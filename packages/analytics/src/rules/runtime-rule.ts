import type { AnalyticsError } from '../errors.js'
import { Heartbeat } from '../operators/heartbeat.js'
import { fromCelValue, type RuleOutput } from './cel-values.js'
import type { CompiledRule, RuleResult } from './compile-rule.js'
import { expressionError } from './expression-errors.js'
import type { ExpressionLimits } from './expression-limits.js'
import { matchesLabelSelector, type LabelTerm } from './label-selector.js'
import type { RuleDefinition } from './rule-definition.js'
import {
  prepareExpressionInput,
  type CompiledExpression,
  type ExpressionInput,
  type PreparedInput,
} from './rule-expression.js'
import type { RuleContext, RuleMessage } from './rule-message.js'
import {
  operatorValue,
  stateForCel,
  type OperatorOutput,
  type RuleOperator,
} from './rule-operator.js'

/**
 * A compiled rule at run time: selects messages, steps its operators per device, evaluates its
 * condition and transform, and turns every failure into a result. Made by `compileRule`.
 */
export class RuntimeRule implements CompiledRule {
  readonly definition: RuleDefinition
  readonly #limits: ExpressionLimits
  readonly #operators: readonly RuleOperator[]
  readonly #condition: CompiledExpression<'condition'> | undefined
  readonly #transform: CompiledExpression<'transform'> | undefined
  readonly #selector: readonly LabelTerm[]
  readonly #kinds: ReadonlySet<string> | undefined
  readonly #metrics: readonly string[] | undefined

  constructor(
    definition: RuleDefinition,
    limits: ExpressionLimits,
    operators: readonly RuleOperator[],
    condition: CompiledExpression<'condition'> | undefined,
    transform: CompiledExpression<'transform'> | undefined,
    selector: readonly LabelTerm[],
  ) {
    this.definition = definition
    this.#limits = limits
    this.#operators = operators
    this.#condition = condition
    this.#transform = transform
    this.#selector = selector
    const kinds = definition.match?.topicKinds
    this.#kinds = kinds === undefined ? undefined : new Set(kinds)
    this.#metrics = definition.match?.metrics
  }

  get name(): string {
    return this.definition.name
  }

  evaluate(message: RuleMessage, context: RuleContext = {}): RuleResult {
    try {
      return this.#evaluate(message, context)
    } catch (err) {
      // A bug, not a rule's fault; still reported like a failure, never thrown at the host.
      const error = this.#inputError(err, 'failed')
      return {
        deviceId: message.deviceId,
        at: message.ts,
        selected: true,
        matched: false,
        actions: [],
        state: {},
        error,
      }
    }
  }

  #evaluate(message: RuleMessage, context: RuleContext): RuleResult {
    const base = { deviceId: message.deviceId, at: message.ts }
    if (!this.#selects(message, context)) {
      return { ...base, selected: false, matched: false, actions: [], state: {} }
    }
    let prepared: PreparedInput
    try {
      prepared = prepareExpressionInput(this.#input(message, context), this.#limits)
    } catch (err) {
      return {
        ...base,
        selected: true,
        matched: false,
        actions: [],
        state: {},
        error: this.#inputError(err),
      }
    }
    const state: Record<string, OperatorOutput> = {}
    const celState = prepared.context.state as Record<string, unknown>
    for (const op of this.#operators) {
      const error = this.#step(op, message, prepared)
      const out = op.peek(message.deviceId)
      if (out !== undefined) {
        state[op.name] = out
        celState[op.name] = stateForCel(out, op.celFields)
      }
      if (error !== undefined)
        return { ...base, selected: true, matched: false, actions: [], state, error }
    }
    return this.#decide(base, prepared, state)
  }

  /** Steps one operator for the message's device; returns the input's error, if it failed. */
  #step(
    op: RuleOperator,
    message: RuleMessage,
    prepared: PreparedInput,
  ): AnalyticsError | undefined {
    const d = op.definition
    let value: number | undefined
    if (op.input !== undefined) {
      const r = op.input.evaluatePrepared(prepared)
      if (!r.ok) return r.missing === undefined ? r.error : undefined
      value = operatorValue(r.value)
    } else if (d.metric !== undefined) {
      value = Object.hasOwn(message.payload, d.metric)
        ? operatorValue(message.payload[d.metric])
        : undefined
    } else {
      value = 0 // a heartbeat on the whole message
    }
    if (value === undefined) return undefined
    op.instance(message.deviceId)?.step(message.ts, value)
    return undefined
  }

  #decide(
    base: { deviceId: string; at: number },
    prepared: PreparedInput,
    state: Record<string, OperatorOutput>,
  ): RuleResult {
    // results are built field by field: object spread is slow on this hot path
    const { deviceId, at } = base
    if (this.#condition !== undefined) {
      const r = this.#condition.evaluatePrepared(prepared)
      if (!r.ok)
        return { deviceId, at, selected: true, matched: false, actions: [], state, error: r.error }
      if (!r.value) {
        return r.missing === undefined
          ? { deviceId, at, selected: true, matched: false, actions: [], state }
          : { deviceId, at, selected: true, matched: false, actions: [], state, missing: r.missing }
      }
    }
    let output: RuleOutput
    if (this.#transform !== undefined) {
      const r = this.#transform.evaluatePrepared(prepared)
      if (!r.ok)
        return { deviceId, at, selected: true, matched: false, actions: [], state, error: r.error }
      output = r.value
    } else {
      output = fromCelValue(prepared.context.payload) as RuleOutput
    }
    return {
      deviceId,
      at,
      selected: true,
      matched: true,
      output,
      actions: this.definition.actions,
      state,
    }
  }

  #inputError(err: unknown, what = 'input'): AnalyticsError {
    const why = err instanceof Error ? err.message : String(err)
    return expressionError(
      'ANALYTICS_EVALUATION_FAILED',
      `rule ${this.name}`,
      '',
      undefined,
      `${what} ${why}`,
      err,
    )
  }

  #selects(message: RuleMessage, context: RuleContext): boolean {
    if (this.#kinds !== undefined && !this.#kinds.has(message.kind)) return false
    if (
      this.#selector.length > 0 &&
      !matchesLabelSelector(context.device?.labels ?? {}, this.#selector)
    ) {
      return false
    }
    const metrics = this.#metrics
    return metrics === undefined || metrics.some((m) => Object.hasOwn(message.payload, m))
  }

  #input(message: RuleMessage, context: RuleContext): ExpressionInput {
    return {
      payload: message.payload,
      topic: message.topic,
      kind: message.kind,
      tags: message.tags ?? {},
      device: { id: message.deviceId, ...context.device },
      twin: context.twin ?? {},
      now: context.now ?? message.ts,
      state: {},
    }
  }

  nextDeadline(): number | undefined {
    let next: number | undefined
    for (const op of this.#operators) {
      if (op.definition.type !== 'heartbeat') continue
      for (const [, entry] of op.keys.entries()) {
        const d = entry.op instanceof Heartbeat ? entry.op.deadline : undefined
        if (d !== undefined && (next === undefined || d < next)) next = d
      }
    }
    return next
  }

  tick(now: number, contextOf?: (deviceId: string) => RuleContext | undefined): RuleResult[] {
    const results: RuleResult[] = []
    for (const hb of this.#operators) {
      if (hb.definition.type !== 'heartbeat') continue
      for (const [, entry] of [...hb.keys.entries()]) {
        const out = entry.op instanceof Heartbeat ? entry.op.tick(now) : undefined
        if (out?.changed !== true) continue
        const context = contextOf?.(entry.deviceId) ?? {}
        if (
          this.#selector.length > 0 &&
          !matchesLabelSelector(context.device?.labels ?? {}, this.#selector)
        )
          continue
        try {
          results.push(this.#evaluateTick(entry.deviceId, now, context))
        } catch (err) {
          const error = this.#inputError(err, 'failed')
          results.push({
            deviceId: entry.deviceId,
            at: now,
            selected: true,
            matched: false,
            actions: [],
            state: {},
            error,
          })
        }
      }
    }
    return results
  }

  #evaluateTick(deviceId: string, now: number, context: RuleContext): RuleResult {
    const base = { deviceId, at: now }
    const input = {
      ...this.#input({ deviceId, kind: 'telemetry', topic: '', ts: now, payload: {} }, context),
      kind: 'tick',
    }
    let prepared: PreparedInput
    try {
      prepared = prepareExpressionInput(input, this.#limits)
    } catch (err) {
      return {
        ...base,
        selected: true,
        matched: false,
        actions: [],
        state: {},
        error: this.#inputError(err),
      }
    }
    const state: Record<string, OperatorOutput> = {}
    const celState = prepared.context.state as Record<string, unknown>
    for (const op of this.#operators) {
      const out = op.peek(deviceId)
      if (out === undefined) continue
      state[op.name] = out
      celState[op.name] = stateForCel(out, op.celFields)
    }
    return this.#decide(base, prepared, state)
  }

  stats(): Record<string, { keys: number; evicted: number; rejected: number }> {
    return Object.fromEntries(this.#operators.map((o) => [o.name, o.keys.stats]))
  }

  reset(): void {
    for (const o of this.#operators) o.keys.clear()
  }
}
