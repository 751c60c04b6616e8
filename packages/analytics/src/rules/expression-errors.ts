import { EvaluationError, ParseError, TypeError as CelTypeError } from '@marcbachmann/cel-js'
import { AnalyticsError, type AnalyticsErrorCode } from '../errors.js'
import { AnalysisError } from './expression-analysis.js'

/** Line and column (both from 1) of a character offset in `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)))
  const lines = before.split('\n')
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 }
}

const hints: Readonly<Record<string, string>> = {
  ANALYTICS_EXPRESSION_INVALID:
    'Fix the syntax at the position given; docs/rules.md has the grammar.',
  ANALYTICS_EXPRESSION_TYPE:
    'Check variable and field names and the operand types; JSON numbers are doubles (write 30.0 or compare with 30).',
  ANALYTICS_EXPRESSION_LIMIT:
    'Simplify the expression: fewer nested comprehensions, smaller literals, shorter source; docs/rules.md lists the limits.',
  ANALYTICS_EXPRESSION_REFUSED: 'docs/rules.md says what rules refuse and what to use instead.',
  ANALYTICS_EVALUATION_FAILED:
    'Guard fields with has(payload.x), convert types with double()/int(), and avoid integer division by zero.',
}

/** An `AnalyticsError` that names the expression kind, line and column. */
export function expressionError(
  code: AnalyticsErrorCode,
  what: string,
  source: string,
  offset: number | undefined,
  summary: string,
  cause?: unknown,
): AnalyticsError {
  const at = offset === undefined ? undefined : lineColumn(source, offset)
  const where = at === undefined ? '' : ` at line ${String(at.line)}, column ${String(at.column)}`
  return new AnalyticsError(code, `${what}${where}: ${summary}`, {
    ...(hints[code] === undefined ? {} : { hint: hints[code] }),
    ...(cause === undefined ? {} : { cause }),
    details: { expression: what, ...(at === undefined ? {} : { ...at, offset }), reason: summary },
  })
}

/** Translates whatever parsing, checking or analysing threw into an `AnalyticsError`. */
export function compileError(what: string, source: string, err: unknown): AnalyticsError {
  if (err instanceof AnalyticsError) return err
  if (err instanceof AnalysisError) {
    const code =
      err.kind === 'limit'
        ? 'ANALYTICS_EXPRESSION_LIMIT'
        : err.kind === 'refused'
          ? 'ANALYTICS_EXPRESSION_REFUSED'
          : 'ANALYTICS_EXPRESSION_INVALID'
    return expressionError(code, what, source, err.start, err.message, err)
  }
  if (err instanceof ParseError) {
    const code =
      err.code === 'limit_exceeded' ? 'ANALYTICS_EXPRESSION_LIMIT' : 'ANALYTICS_EXPRESSION_INVALID'
    return expressionError(code, what, source, err.range?.start, err.summary, err)
  }
  if (err instanceof CelTypeError) {
    return expressionError(
      'ANALYTICS_EXPRESSION_TYPE',
      what,
      source,
      err.range?.start,
      err.summary,
      err,
    )
  }
  if (err instanceof RangeError) {
    return expressionError(
      'ANALYTICS_EXPRESSION_LIMIT',
      what,
      source,
      undefined,
      'the expression nests too deeply to compile',
      err,
    )
  }
  return expressionError('ANALYTICS_EXPRESSION_INVALID', what, source, undefined, String(err), err)
}

/** The reason a run-time failure gives, and its offset when the library knows it. */
export function evaluationFailure(err: unknown): {
  summary: string
  offset?: number
  missing: boolean
} {
  if (err instanceof EvaluationError) {
    const offset = err.range?.start
    return {
      summary: err.summary,
      missing: err.code === 'no_such_key',
      ...(offset === undefined ? {} : { offset }),
    }
  }
  if (err instanceof RangeError) {
    return { summary: `evaluation ran out of room: ${err.message}`, missing: false }
  }
  return { summary: err instanceof Error ? err.message : String(err), missing: false }
}
