import type { AnalyticsError } from '../errors.js'
import { fromCelValue, ValueError, type RuleOutput } from './cel-values.js'
import type { RuleEnvironment } from './expression-environment.js'
import { evaluationFailure, expressionError } from './expression-errors.js'
import type { ExpressionLimits } from './expression-limits.js'
import {
  prepareExpressionInput,
  type ExpressionInput,
  type PreparedInput,
} from './expression-input.js'

/**
 * What an expression is for: a `condition` is a bool, a `transform` a map (the rule's output),
 * a `value` a number or bool (an operator's input).
 */
export type ExpressionKind = 'condition' | 'transform' | 'value'

/** What an expression of each kind evaluates to. */
export interface ExpressionValue {
  condition: boolean
  transform: RuleOutput
  value: number | boolean
}

/**
 * The outcome of one evaluation: never thrown. `missing` is set when a condition read a field
 * the message does not have, which makes the condition false rather than an error.
 */
export type ExpressionResult<T> =
  | { readonly ok: true; readonly value: T; readonly missing?: string }
  | { readonly ok: false; readonly error: AnalyticsError; readonly missing?: string }

/** How each kind is named in errors: "not a bool". */
export const expected: Readonly<Record<ExpressionKind, string>> = {
  condition: 'a bool',
  transform: 'a map',
  value: 'a number or bool',
}

/**
 * A parsed, type-checked, cost-checked expression, evaluated against message after message.
 *
 * @example
 * const c = compileExpression('payload.temp > 30', 'condition')
 * const r = c.evaluate({ payload: { temp: 31 } })
 * if (r.ok && r.value) alarm()
 */
export class CompiledExpression<K extends ExpressionKind = ExpressionKind> {
  readonly source: string
  readonly kind: K
  /** The CEL type the checker inferred, e.g. `bool`, `map<string, dyn>`, `dyn`. */
  readonly type: string
  /** Worst-case evaluation steps with inputs at their limits. */
  readonly estimatedCost: number
  readonly #name: string
  readonly #run: (context: object) => unknown
  /** A condition's native evaluator for its common shapes; CEL when it cannot decide. */
  readonly #fast: ((context: Readonly<Record<string, unknown>>) => unknown) | undefined
  readonly #renv: RuleEnvironment

  /** Use {@link compileExpression}. */
  constructor(init: {
    source: string
    kind: K
    type: string
    estimatedCost: number
    name: string
    run: (context: object) => unknown
    fast?: ((context: Readonly<Record<string, unknown>>) => unknown) | undefined
    renv: RuleEnvironment
  }) {
    this.source = init.source
    this.kind = init.kind
    this.type = init.type
    this.estimatedCost = init.estimatedCost
    this.#name = init.name
    this.#run = init.run
    this.#fast = init.fast
    this.#renv = init.renv
  }

  /** The limits the expression was compiled with. */
  get limits(): ExpressionLimits {
    return this.#renv.limits
  }

  /** Evaluates against one input; never throws. */
  evaluate(input: ExpressionInput = {}): ExpressionResult<ExpressionValue[K]> {
    let prepared: PreparedInput
    try {
      prepared = prepareExpressionInput(input, this.#renv.limits)
    } catch (err) {
      return this.#fail(`input ${err instanceof Error ? err.message : String(err)}`, undefined, err)
    }
    return this.evaluatePrepared(prepared)
  }

  /** Evaluates against input prepared once for several expressions; never throws. */
  evaluatePrepared(input: PreparedInput): ExpressionResult<ExpressionValue[K]> {
    if (this.#fast !== undefined) {
      const v = this.#fast(input.context)
      if (typeof v === 'boolean') return { ok: true, value: v as ExpressionValue[K] }
    }
    const meter = this.#renv.meter
    meter.steps = 0
    meter.exceeded = undefined
    let value: unknown
    try {
      value = this.#run(input.context)
    } catch (err) {
      const over = exceeded(meter)
      if (over !== undefined) return this.#fail(over, undefined, err)
      const failure = evaluationFailure(err)
      if (failure.missing && this.kind === 'condition') {
        return { ok: true, value: false as ExpressionValue[K], missing: failure.summary }
      }
      const failed = this.#fail(failure.summary, failure.offset, err)
      return failure.missing ? { ...failed, missing: failure.summary } : failed
    }
    const over = exceeded(meter)
    if (over !== undefined) return this.#fail(over, undefined)
    return this.#shape(value)
  }

  #shape(value: unknown): ExpressionResult<ExpressionValue[K]> {
    switch (this.kind) {
      case 'condition':
        if (typeof value === 'boolean') return { ok: true, value: value as ExpressionValue[K] }
        break
      case 'value':
        if (typeof value === 'boolean' || typeof value === 'number') {
          return { ok: true, value: value as ExpressionValue[K] }
        }
        if (typeof value === 'bigint')
          return { ok: true, value: Number(value) as ExpressionValue[K] }
        break
      case 'transform': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) break
        try {
          return { ok: true, value: fromCelValue(value) as ExpressionValue[K] }
        } catch (err) {
          const msg = err instanceof ValueError ? err.message : String(err)
          return this.#fail(`the output ${msg}`, undefined, err)
        }
      }
    }
    return this.#fail(`returned ${describeValue(value)}, not ${expected[this.kind]}`, undefined)
  }

  #fail(
    summary: string,
    offset: number | undefined,
    cause?: unknown,
  ): { ok: false; error: AnalyticsError } {
    const error = expressionError(
      'ANALYTICS_EVALUATION_FAILED',
      this.#name,
      this.source,
      offset,
      summary,
      cause,
    )
    return { ok: false, error }
  }
}

/** Read through a call: the evaluation in between may set it, which narrowing cannot see. */
function exceeded(meter: { readonly exceeded: string | undefined }): string | undefined {
  return meter.exceeded
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof Date) return 'a timestamp'
  if (value instanceof Uint8Array) return 'bytes'
  if (typeof value === 'object') return 'a map'
  return typeof value === 'bigint'
    ? 'an int'
    : typeof value === 'number'
      ? 'a double'
      : `a ${typeof value}`
}
