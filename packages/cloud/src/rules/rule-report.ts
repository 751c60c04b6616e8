import type { DryRunReport, RuleResult } from '@strata/analytics'
import { isStrataError } from '@strata/protocol'
import { redactActions } from './rule-secrets.js'

/** A rule result as JSON: errors as `{code, message}`, actions without their secrets. */
export interface RuleResultJson {
  readonly deviceId: string
  readonly at: number
  readonly selected: boolean
  readonly matched: boolean
  readonly output?: unknown
  readonly actions: unknown[]
  readonly state: Readonly<Record<string, unknown>>
  readonly missing?: string
  readonly error?: { readonly code: string; readonly message: string }
}

/** A dry run's report as the API sends it. */
export interface DryRunReportJson {
  readonly steps: {
    readonly source: 'message' | 'tick'
    readonly index?: number
    readonly result: RuleResultJson
  }[]
  readonly summary: DryRunReport['summary']
  readonly health: {
    readonly status: string
    readonly consecutiveFailures: number
    readonly evaluations: number
    readonly failures: number
    readonly lastError?: { readonly code: string; readonly message: string }
    readonly lastErrorAt?: number
    readonly disabledAt?: number
  }
}

/**
 * A {@link DryRunReport} as plain JSON: ints beyond 2⁵³ as strings, bytes as base64, errors as
 * `{code, message}`, and the actions of each result with their secrets hidden.
 */
export function reportJson(report: DryRunReport): DryRunReportJson {
  const { lastError, ...health } = report.health
  return {
    steps: report.steps.map((s) => ({
      source: s.source,
      ...(s.index === undefined ? {} : { index: s.index }),
      result: resultJson(s.result),
    })),
    summary: report.summary,
    health: { ...health, ...(lastError === undefined ? {} : { lastError: errorJson(lastError) }) },
  }
}

function resultJson(r: RuleResult): RuleResultJson {
  return {
    deviceId: r.deviceId,
    at: r.at,
    selected: r.selected,
    matched: r.matched,
    ...(r.output === undefined ? {} : { output: plain(r.output) }),
    actions: plain(redactActions(r.actions)) as unknown[],
    state: plain(r.state) as Record<string, unknown>,
    ...(r.missing === undefined ? {} : { missing: r.missing }),
    ...(r.error === undefined ? {} : { error: errorJson(r.error) }),
  }
}

function errorJson(err: unknown): { code: string; message: string } {
  return isStrataError(err)
    ? { code: err.code, message: err.message }
    : { code: 'CLOUD_INTERNAL', message: String(err) }
}

/** A value JSON can carry, whatever a rule output or operator state holds. */
export function plain(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) return value.map(plain)
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
      if (value instanceof Date) return value.getTime()
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        // defineProperty: a `__proto__` key of the data stays data, never a prototype.
        if (v !== undefined)
          Object.defineProperty(out, k, {
            value: plain(v),
            enumerable: true,
            writable: true,
            configurable: true,
          })
      }
      return out
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return null
    default:
      return value
  }
}
