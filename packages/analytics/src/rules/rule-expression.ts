import { analyzeExpression, AnalysisError } from './expression-analysis.js'
import { CompiledExpression, expected, type ExpressionKind } from './compiled-expression.js'
import {
  createRuleEnvironment,
  meterExpression,
  type RuleEnvironment,
  type StateFieldTypes,
} from './expression-environment.js'
import { compileError, expressionError } from './expression-errors.js'
import { resolveExpressionLimits, type ExpressionLimitsInput } from './expression-limits.js'
import { fastCondition } from './fast-condition.js'

export {
  CompiledExpression,
  type ExpressionKind,
  type ExpressionResult,
  type ExpressionValue,
} from './compiled-expression.js'
export {
  prepareExpressionInput,
  type DeviceFacts,
  type ExpressionInput,
  type PreparedInput,
  type TwinFacts,
} from './expression-input.js'

/** Options for {@link compileExpression}. */
export interface CompileExpressionOptions {
  readonly limits?: ExpressionLimitsInput
  /** The rule's operators and their output fields, typing `state.<name>.<field>`. */
  readonly state?: Readonly<Record<string, StateFieldTypes>>
  /** Names the expression in errors (default: its kind). */
  readonly name?: string
}

const resultTypes: Readonly<Record<ExpressionKind, (type: string) => boolean>> = {
  condition: (t) => t === 'bool' || t === 'dyn',
  transform: (t) => t === 'map' || t.startsWith('map<') || t === 'dyn',
  value: (t) => ['int', 'uint', 'double', 'bool', 'dyn'].includes(t),
}

/**
 * Compiles a CEL expression once, for evaluation against many messages: parses it, type-checks
 * it against the rule variables, checks that a condition is a bool and a transform a map, and
 * refuses it when it is over a limit (source length, depth, nodes, estimated cost) or uses what
 * rules refuse. Throws `AnalyticsError` (`ANALYTICS_EXPRESSION_INVALID`, `…_TYPE`, `…_LIMIT`,
 * `…_REFUSED`) naming line and column.
 *
 * @example
 * const hot = compileExpression('has(payload.temp) && payload.temp > 30', 'condition')
 * hot.evaluate({ payload: { temp: 31.5 } }) // { ok: true, value: true }
 * hot.evaluate({ payload: { humidity: 40 } }) // { ok: true, value: false }
 *
 * const out = compileExpression('{"tempF": payload.temp * 9.0 / 5.0 + 32.0}', 'transform')
 * out.evaluate({ payload: { temp: 20 } }) // { ok: true, value: { tempF: 68 } }
 */
export function compileExpression<K extends ExpressionKind>(
  source: string,
  kind: K,
  options: CompileExpressionOptions = {},
): CompiledExpression<K> {
  const limits = resolveExpressionLimits(options.limits)
  return compileInEnvironment(
    createRuleEnvironment(limits, options.state),
    source,
    kind,
    options.name ?? kind,
  )
}

/** Compiles in an existing environment (one per rule: its expressions share the state types). */
export function compileInEnvironment<K extends ExpressionKind>(
  renv: RuleEnvironment,
  source: string,
  kind: K,
  name: string,
): CompiledExpression<K> {
  const limits = renv.limits
  if (typeof source !== 'string' || source.trim() === '') {
    throw expressionError(
      'ANALYTICS_EXPRESSION_INVALID',
      name,
      '',
      undefined,
      'the expression is empty',
    )
  }
  if (source.length > limits.maxSourceLength) {
    throw expressionError(
      'ANALYTICS_EXPRESSION_LIMIT',
      name,
      source,
      undefined,
      `the expression has ${String(source.length)} characters, over the limit of ${String(limits.maxSourceLength)}`,
    )
  }
  try {
    let parsed = renv.env.parse(source)
    checkDepth(parsed.ast, limits.maxAstDepth)
    const checked = parsed.check()
    if (!checked.valid) throw checked.error ?? new Error('the expression does not type-check')
    const type = checked.type ?? 'dyn'
    if (!resultTypes[kind](type)) {
      throw expressionError(
        'ANALYTICS_EXPRESSION_TYPE',
        name,
        source,
        0,
        `a ${kind} must be ${expected[kind]}, but this is ${type}`,
      )
    }
    const analysis = analyzeExpression(parsed.ast, renv.inputs, limits)
    for (const [pattern, re] of analysis.regexes) renv.regexes.set(pattern, re)
    if (analysis.matchCalls.length > 0) {
      parsed = renv.env.parse(rewriteMatches(source, analysis.matchCalls))
      const again = parsed.check()
      if (!again.valid) throw again.error ?? new Error('the expression does not type-check')
    }
    meterExpression(parsed.ast, renv)
    const run = parsed
    return new CompiledExpression({
      source,
      kind,
      type,
      estimatedCost: analysis.cost,
      name,
      run: (context) => run(context) as unknown,
      fast: kind === 'condition' ? fastCondition(parsed.ast) : undefined,
      renv,
    })
  } catch (err) {
    throw compileError(name, source, err)
  }
}

/** Refuses trees deeper than `max` before the checker recurses into them. */
function checkDepth(root: unknown, max: number): void {
  const stack: [unknown, number][] = [[root, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number]
    if (typeof node !== 'object' || node === null) continue
    if (Array.isArray(node)) {
      for (const n of node) stack.push([n, depth])
      continue
    }
    if (!('op' in node)) continue
    const at = node as unknown as { start: number; end: number; args: unknown }
    if (depth > max) {
      throw new AnalysisError('limit', `the expression nests deeper than ${String(max)} levels`, at)
    }
    stack.push([at.args, depth + 1])
  }
}

/**
 * Points every `x.matches("…")` at `matchRe`, the linear-time matcher: the library's own
 * `matches` runs a backtracking `RegExp`. Both names have 7 letters, so positions stay put.
 */
function rewriteMatches(
  source: string,
  calls: readonly { readonly receiverEnd: number; readonly patternStart: number }[],
): string {
  let out = source
  for (const call of [...calls].sort((a, b) => b.receiverEnd - a.receiverEnd)) {
    const gap = out.slice(call.receiverEnd, call.patternStart)
    const m = /^([\s)]*\.\s*)(matches|matchRe)(\s*\([\s(]*)$/.exec(gap)
    if (m === null) {
      throw new AnalysisError(
        'refused',
        'write x.matches("pattern") without comments between its parts',
        { start: call.receiverEnd, end: call.patternStart },
      )
    }
    const at = call.receiverEnd + (m[1]?.length ?? 0)
    out = `${out.slice(0, at)}matchRe${out.slice(at + 7)}`
  }
  return out
}
