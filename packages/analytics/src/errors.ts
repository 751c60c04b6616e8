import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the analytics package throws or reports, with what it means.
 * `docs/errors.md` lists the same codes; `npm run check:docs` fails when the two disagree.
 */
export const analyticsErrorCodes = {
  ANALYTICS_EXPRESSION_INVALID:
    'A rule expression that does not parse (syntax error) or whose regular expression does not parse; the message gives line and column.',
  ANALYTICS_EXPRESSION_TYPE:
    'A rule expression that parses but does not type-check: an unknown variable or field, an operator or function on the wrong types, a condition that is not a bool, a transform that is not a map.',
  ANALYTICS_EXPRESSION_LIMIT:
    'A rule expression over a limit: source length, nesting depth, node count, estimated evaluation cost or size of a computed value, regular expression size.',
  ANALYTICS_EXPRESSION_REFUSED:
    'A rule expression that uses a feature rules refuse on purpose: a regular expression that is not a string literal or uses backreferences or lookaround, `bytes.json()`.',
  ANALYTICS_EVALUATION_FAILED:
    'A rule expression failed on one message (a type error at run time, integer division by zero, overflow, an input over the input limits); reported in the result, never thrown.',
  ANALYTICS_RULE_INVALID:
    'A rule definition that does not match the rule schema or contradicts itself (two operators with one name, an operator with both metric and input, below above above); the message names the field by its JSON pointer.',
  ANALYTICS_OPTIONS_INVALID:
    'Options for a stream operator, rule health or expression limits that are out of range (a window of zero length, a negative threshold).',
} as const

/** One of the analytics package's error codes. */
export type AnalyticsErrorCode = keyof typeof analyticsErrorCodes

/**
 * An error from the rule language, the stream operators or rule compilation.
 *
 * @example
 * try {
 *   compileRule(definition)
 * } catch (err) {
 *   if (err instanceof AnalyticsError) reply(400, { code: err.code, message: err.message, hint: err.hint })
 * }
 */
export class AnalyticsError extends StrataError {
  declare readonly code: AnalyticsErrorCode

  constructor(code: AnalyticsErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
