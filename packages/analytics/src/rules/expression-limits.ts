import { AnalyticsError } from '../errors.js'
import type { InputLimits } from './cel-values.js'
import { defaultSafeRegexLimits, type SafeRegexLimits } from './regex/safe-regex.js'

/**
 * Every limit a rule expression is held to. Structure is checked when the expression is
 * compiled; cost is estimated then from the input limits, and metered again on every evaluation.
 */
export interface ExpressionLimits {
  /** Longest source, in characters. */
  readonly maxSourceLength: number
  /** Deepest nesting of parentheses, calls, selections, indexes and literals (the parser's). */
  readonly maxDepth: number
  /** Deepest nesting of any kind, operator chains included (`a + b + c` is three deep). */
  readonly maxAstDepth: number
  /** Most syntax-tree nodes. */
  readonly maxAstNodes: number
  /** Most elements in a list literal or entries in a map literal. */
  readonly maxLiteralElements: number
  /**
   * Most node evaluations (comprehension bodies count once per element; a regular expression
   * counts its subject length × automaton size / 20): the estimate at compile time and the meter
   * at run time both stop here.
   */
  readonly maxCost: number
  /** Largest value an expression may build (characters, or elements summed over nesting). */
  readonly maxValueSize: number
  /** Limits on every input value; the cost estimate assumes them. */
  readonly input: InputLimits
  /** Limits on regular expressions in `matches()`. */
  readonly regex: SafeRegexLimits
}

/**
 * The defaults: 4 KiB of source, 1 000 000 steps, inputs with lists of at most 1000.
 *
 * @example
 * compileRule(definition, { limits: { maxCost: defaultExpressionLimits.maxCost / 10 } })
 */
export const defaultExpressionLimits: ExpressionLimits = {
  maxSourceLength: 4_096,
  maxDepth: 32,
  maxAstDepth: 256,
  maxAstNodes: 2_000,
  maxLiteralElements: 1_000,
  maxCost: 1_000_000,
  maxValueSize: 10_000_000,
  // strings: telemetry and event strings are at most 1024 by the protocol; twins may hold longer
  input: { maxListLength: 1_000, maxStringLength: 8_192, maxDepth: 32, maxNodes: 50_000 },
  regex: defaultSafeRegexLimits,
}

/** Overrides for some limits; nested groups may be given in part. */
export type ExpressionLimitsInput = Partial<
  Omit<ExpressionLimits, 'input' | 'regex'> & {
    readonly input: Partial<InputLimits>
    readonly regex: Partial<SafeRegexLimits>
  }
>

/**
 * Merges overrides into the defaults and checks that each limit is a positive integer; throws
 * `ANALYTICS_OPTIONS_INVALID` naming the bad one.
 *
 * @example
 * resolveExpressionLimits({ maxCost: 100_000 }).maxCost // 100000
 */
export function resolveExpressionLimits(input: ExpressionLimitsInput = {}): ExpressionLimits {
  const limits: ExpressionLimits = {
    ...defaultExpressionLimits,
    ...input,
    input: { ...defaultExpressionLimits.input, ...input.input },
    regex: { ...defaultExpressionLimits.regex, ...input.regex },
  }
  const check = (path: string, value: unknown): void => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new AnalyticsError(
        'ANALYTICS_OPTIONS_INVALID',
        `expression limit ${path} must be a positive integer, got ${String(value)}`,
        { hint: 'Leave the limit out to use its default.', details: { field: path } },
      )
    }
  }
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as object)) check(`${k}.${k2}`, v2)
    } else check(k, v)
  }
  return limits
}
