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
  type KeyedOperator,
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
  /** Rules whose input limits are equal can share one prepared input per message. */
  readonly #inputLimitsKey: string

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
    this.#inputLimitsKey = JSON.stringify(limits.input)
  }

  get name(): string {
    return this.definition.name
  }

  evaluate(message: RuleMessage, context: RuleContext = {}, shared?: SharedInput): RuleResult {
    try {
      return this.#evaluate(message, context, shared)
    } catch (err) {
      // A bug, not a rule's fault; still reported like a failure, never thrown at the host.
      return unmatched(message.deviceId, message.ts, true, {}, this.#inputError(err, 'failed'))
    }
  }

  #evaluate(message: RuleMessage, context: RuleContext, shared?: SharedInput): RuleResult {
    const { deviceId, ts } = message
    if (!this.#selects(message, context)) return unmatched(deviceId, ts, false, {})
    let prepared: PreparedInput | AnalyticsError
    if (
      shared?.prepared !== undefined &&
      shared.context === context &&
      shared.inputLimits === this.#inputLimitsKey
    ) {
      prepared = shared.prepared
    } else {
      prepared = this.#prepare(this.#input(message, context, message.kind))
      if (shared !== undefined) {
        shared.prepared = prepared
        shared.context = context
        shared.inputLimits = this.#inputLimitsKey
      }
    }
    if (prepared instanceof Error) return unmatched(deviceId, ts, true, {}, prepared)
    const state: Record<string, OperatorOutput> = {}
    // this rule's operators only: a shared input is reused by the next rule with a state of its own
    const celState: Record<string, unknown> = {}
    ;(prepared.context as Record<string, unknown>)['state'] = celState
    for (const op of this.#operators) {
      const stepped = this.#step(op, message, prepared)
      const instance =
        stepped === undefined || stepped instanceof Error ? op.peek(deviceId) : stepped
      const out = instance?.op.output
      if (instance !== undefined && out !== undefined) {
        state[op.name] = out
        celState[op.name] = stateForCel(out, op.celFields)
      }
      if (stepped instanceof Error) return unmatched(deviceId, ts, true, state, stepped)
    }
    return this.#decide(deviceId, ts, prepared, state)
  }

  /** The input checked against the limits, or the error that refused it. */
  #prepare(input: ExpressionInput): PreparedInput | AnalyticsError {
    try {
      return prepareExpressionInput(input, this.#limits)
    } catch (err) {
      return this.#inputError(err)
    }
  }

  /**
   * Steps one operator for the message's device: the instance it stepped, undefined when the
   * message has no value for it (or its keys are full), or the input's error.
   */
  #step(
    op: RuleOperator,
    message: RuleMessage,
    prepared: PreparedInput,
  ): KeyedOperator | AnalyticsError | undefined {
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
    const instance = op.instance(message.deviceId)
    instance?.op.step(message.ts, value)
    return instance
  }

  #decide(
    deviceId: string,
    at: number,
    prepared: PreparedInput,
    state: Record<string, OperatorOutput>,
  ): RuleResult {
    // results are built field by field: V8 makes `{...a, b}` a slow clone (µs) on this hot path
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
    if (metrics === undefined) return true
    for (const m of metrics) if (Object.hasOwn(message.payload, m)) return true
    return false
  }

  #input(message: RuleMessage, context: RuleContext, kind: string): ExpressionInput {
    const device = context.device
    return {
      payload: message.payload,
      topic: message.topic,
      kind,
      tags: message.tags ?? noTags,
      device: {
        id: message.deviceId,
        labels: device?.labels ?? noTags,
        attributes: device?.attributes ?? noAttributes,
      },
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
          results.push(unmatched(entry.deviceId, now, true, {}, this.#inputError(err, 'failed')))
        }
      }
    }
    return results
  }

  #evaluateTick(deviceId: string, now: number, context: RuleContext): RuleResult {
    const message = { deviceId, kind: 'telemetry', topic: '', ts: now, payload: {} } as const
    const prepared = this.#prepare(this.#input(message, context, 'tick'))
    if (prepared instanceof Error) return unmatched(deviceId, now, true, {}, prepared)
    const state: Record<string, OperatorOutput> = {}
    const celState = prepared.context.state as Record<string, unknown>
    for (const op of this.#operators) {
      const instance = op.peek(deviceId)
      const out = instance?.op.output
      if (instance === undefined || out === undefined) continue
      state[op.name] = out
      celState[op.name] = stateForCel(out, op.celFields)
    }
    return this.#decide(deviceId, now, prepared, state)
  }

  stats(): Record<string, { keys: number; evicted: number; rejected: number }> {
    return Object.fromEntries(this.#operators.map((o) => [o.name, o.keys.stats]))
  }

  reset(): void {
    for (const o of this.#operators) o.keys.clear()
  }
}

const noTags: Readonly<Record<string, string>> = Object.freeze({})
const noAttributes: Readonly<Record<string, unknown>> = Object.freeze({})

/** A result without a match: not selected, or selected and failed (`error`) or false. */
function unmatched(
  deviceId: string,
  at: number,
  selected: boolean,
  state: Record<string, OperatorOutput>,
  error?: AnalyticsError,
): RuleResult {
  return error === undefined
    ? { deviceId, at, selected, matched: false, actions: [], state }
    : { deviceId, at, selected, matched: false, actions: [], state, error }
}

/**
 * One message's expression input, prepared by the first rule that selects the message and
 * reused by the others (copying and checking the payload, labels and twin once, not once per
 * rule). Make a fresh one per message. It is reused only by rules given the same context object
 * and equal input limits; others prepare their own.
 *
 * @example
 * const shared: SharedInput = {}
 * for (const rule of rules) results.push(rule.evaluate(message, context, shared))
 */
export interface SharedInput {
  prepared?: PreparedInput | AnalyticsError
  context?: RuleContext
  inputLimits?: string
}
