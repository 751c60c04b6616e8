import { compileRule, type CompileRuleOptions, type RuleResult } from './compile-rule.js'
import type { RuleContext, RuleMessage } from './rule-message.js'
import { RuleHealth, type RuleHealthOptions, type RuleHealthSnapshot } from './rule-health.js'

/** One sample: a message, and what the host would know about its device. */
export interface DryRunSample {
  readonly message: RuleMessage
  readonly context?: RuleContext
}

/** Options for {@link dryRun}. */
export interface DryRunOptions extends CompileRuleOptions {
  /** Context for samples that bring none (labels, twin). */
  readonly context?: RuleContext
  /** Let time pass to here after the last sample (epoch ms), so trailing silences are reported. */
  readonly untilMs?: number
  readonly health?: RuleHealthOptions
}

/** What happened at one point of the replay. */
export interface DryRunStep {
  /** `message`: a sample; `tick`: time passing, where a heartbeat found a device silent. */
  readonly source: 'message' | 'tick'
  /** The sample's index, for `message` steps. */
  readonly index?: number
  readonly result: RuleResult
}

/** A replay's steps, a count of outcomes, and the health verdict the run would have reached. */
export interface DryRunReport {
  readonly steps: readonly DryRunStep[]
  readonly summary: {
    readonly messages: number
    readonly selected: number
    readonly matched: number
    readonly errors: number
  }
  readonly health: RuleHealthSnapshot
}

/**
 * Runs a rule definition over sample messages with fresh state and no side effects: what the
 * API's dry run and "replay a recorded window" call. Time is the samples' timestamps: before each
 * sample, heartbeats see time pass up to it (a silence is reported at the moment it began), so a
 * recorded window replays as it ran. Throws like {@link compileRule} when the definition is
 * invalid; never for a sample.
 *
 * @example
 * const report = dryRun(definition, recorded.map((message) => ({ message })), { untilMs: end })
 * report.steps.filter((s) => s.result.matched).length
 */
export function dryRun(
  definition: unknown,
  samples: readonly (RuleMessage | DryRunSample)[],
  options: DryRunOptions = {},
): DryRunReport {
  const rule = compileRule(
    definition,
    options.limits === undefined ? {} : { limits: options.limits },
  )
  const health = new RuleHealth(options.health)
  const steps: DryRunStep[] = []
  const contexts = new Map<string, RuleContext>()
  const contextOf = (deviceId: string) => contexts.get(deviceId) ?? options.context
  const passTime = (until: number) => {
    for (let d = rule.nextDeadline(); d !== undefined && d <= until; d = rule.nextDeadline()) {
      for (const result of rule.tick(d, contextOf)) {
        steps.push({ source: 'tick', result })
        health.record(result, result.at)
      }
    }
  }
  samples.forEach((sample, index) => {
    const { message, context } =
      'message' in sample ? sample : { message: sample, context: undefined }
    const ctx = context ?? options.context
    if (ctx !== undefined) contexts.set(message.deviceId, ctx)
    passTime(message.ts)
    const result = rule.evaluate(message, ctx)
    steps.push({ source: 'message', index, result })
    health.record(result, message.ts)
  })
  if (options.untilMs !== undefined) passTime(options.untilMs)
  const count = (f: (r: RuleResult) => boolean) => steps.filter((s) => f(s.result)).length
  return {
    steps,
    summary: {
      messages: samples.length,
      selected: count((r) => r.selected),
      matched: count((r) => r.matched),
      errors: count((r) => r.error !== undefined),
    },
    health: health.snapshot(),
  }
}
