import {
  compileRule,
  RuleHealth,
  ruleMessagesOf,
  type CompiledRule,
  type ExpressionLimitsInput,
  type RuleActionType,
  type RuleHealthOptions,
  type RuleMessage,
  type SharedInput,
  type RuleResult,
} from '@strata/analytics'
import {
  decodeDeviceMessage,
  isStrataError,
  type DeviceMessage,
  type TelemetryRecord,
} from '@strata/protocol'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { AcceptedMessage } from '../ingestion/device-messages.js'
import { RuleActionsRunner, type RuleActionHost, type RunningRule } from './rule-actions-runner.js'
import { ruleNeeds, type RuleContextCache, type RuleNeeds } from './rule-context.js'
import { ruleDeliveryPrefix } from './rule-delivery-id.js'
import { RuleIndex } from './rule-index.js'
import { RuleStatsRecorder } from './rule-stats.js'
import { RuleTicker } from './rule-ticker.js'
import type { RuleSource, RuleStats, RuleStatsSource, StoredRule } from './rule-types.js'

/** Totals of every rule on this node, for the node's Prometheus metrics. */
export interface RuleTotals {
  evaluations: number
  matches: number
  errors: number
  readonly actionFailures: Map<RuleActionType, number>
}

/** Options of a {@link RuleEngine}. */
export interface RuleEngineOptions {
  /** When a failing rule is disabled (default: 10 failures in a row within 60 s). */
  readonly health?: RuleHealthOptions
  /** Tighter expression limits than the analytics defaults. */
  readonly limits?: ExpressionLimitsInput
  /** How stale the per-rule dead-letter counts may be (they are read from the outbox). */
  readonly deadLetterRefreshMs?: number
}

/** A rule being run: compiled, with its health, stats and what its context needs. */
interface LiveRule {
  readonly stored: StoredRule
  readonly definition: StoredRule['definition']
  readonly compiled: CompiledRule
  readonly health: RuleHealth
  readonly stats: RuleStatsRecorder
  readonly needs: RuleNeeds
  readonly running: RunningRule
  /** The shortest heartbeat timeout of its operators, if it has any. */
  readonly heartbeatMs: number | undefined
  disabled: boolean
}

const keyOf = (tenantId: string, name: string) => `${tenantId}\u0000${name}`

/**
 * Runs every enabled rule of every tenant on the messages devices send, in the node. Rules come
 * from a {@link RuleSource} (compiled at start and on each change; an updated rule starts with
 * fresh state). `onAccepted` is the ingestion hook: a message of a tenant without rules costs a
 * map lookup; otherwise a pre-filter ({@link RuleIndex}) hands it only to the rules that could
 * select it. Evaluation is synchronous and never throws; actions are started, never awaited.
 * One timer ticks the heartbeat operators. Rules that keep failing are disabled through the
 * source. Stats per rule are kept in memory ({@link RuleStatsSource}).
 */
export class RuleEngine implements RuleStatsSource {
  readonly totals: RuleTotals = { evaluations: 0, matches: 0, errors: 0, actionFailures: new Map() }
  readonly #source: RuleSource
  readonly #context: RuleContextCache
  readonly #clock: () => number
  readonly #log: Logger
  readonly #options: RuleEngineOptions
  readonly #listDeadLetters: ((after: number) => readonly { seq: number; id: string }[]) | undefined
  readonly #index = new RuleIndex<LiveRule>()
  readonly #stored = new Map<string, StoredRule>()
  readonly #stats = new Map<string, RuleStatsRecorder>()
  readonly #heartbeats = new Set<LiveRule>()
  readonly #actions: RuleActionsRunner
  readonly #ticker: RuleTicker
  #deadLetters: { at: number; byPrefix: Map<string, number> } | undefined
  #closed = false

  constructor(
    deps: {
      source: RuleSource
      host: RuleActionHost
      context: RuleContextCache
      clock: () => number
      log: Logger
      /** One page of the outbox's dead letters after `seq` (for the per-rule counts). */
      listDeadLetters?: (after: number) => readonly { seq: number; id: string }[]
    },
    options: RuleEngineOptions = {},
  ) {
    this.#source = deps.source
    this.#context = deps.context
    this.#clock = deps.clock
    this.#log = deps.log.child({ component: 'rules' })
    this.#options = options
    this.#listDeadLetters = deps.listDeadLetters
    this.#actions = new RuleActionsRunner(deps.host, this.#log, (rule, type, error) => {
      const stats = this.#stats.get(keyOf(rule.tenantId, rule.name))
      stats?.recordAction(error === undefined)
      if (error === undefined) return
      stats?.recordError(error.code, `${type} action: ${error.message}`, this.#clock())
      this.totals.actionFailures.set(type, (this.totals.actionFailures.get(type) ?? 0) + 1)
    })
    this.#ticker = new RuleTicker({ clock: deps.clock, onTick: (now) => this.#tick(now) })
  }

  /** Loads and compiles the source's rules and follows its changes. */
  start(): void {
    for (const rule of this.#source.all()) this.#apply(rule.tenantId, rule.name, rule)
    this.#source.onChange((tenantId, name, rule) => {
      if (!this.#closed) this.#apply(tenantId, name, rule)
    })
    this.#log.info({ rules: this.#stored.size }, 'rules loaded')
  }

  /** The ingestion hook: runs the rules on an accepted device message. Never throws. */
  onAccepted(message: AcceptedMessage): void {
    if (this.#closed || !this.#index.hasKind(message.tenantId, message.kind)) return
    try {
      const decoded: DeviceMessage =
        message.records === undefined
          ? decodeDeviceMessage(message.kind, message.format, message.payload)
          : // read-only here: ruleMessagesOf only reads the records
            { kind: 'telemetry', records: message.records as TelemetryRecord[] }
      const now = this.#clock()
      for (const m of ruleMessagesOf(
        message.deviceId,
        message.topic,
        decoded,
        message.receivedAt,
      )) {
        // the record's input is prepared once for every rule that reads it with the same context
        const shared: SharedInput = {}
        for (const rule of this.#index.candidates(message.tenantId, m.kind, m.payload)) {
          this.#evaluate(rule, m, now, shared)
        }
      }
    } catch (err) {
      this.#log.error({ err, deviceId: message.deviceId }, 'rules could not run on a message')
    }
  }

  /** The device's twin changed: rules read it again. */
  forgetTwin(deviceId: string): void {
    this.#context.forgetTwin(deviceId)
  }

  /** The device's labels, attributes or state changed: rules read them again on its next message. */
  forgetDevice(deviceId: string): void {
    this.#context.forgetDevice(deviceId)
  }

  statsOf(tenantId: string, name: string): RuleStats | undefined {
    const key = keyOf(tenantId, name)
    const stored = this.#stored.get(key)
    if (stored === undefined) return undefined
    const live = this.#index.get(tenantId, name)
    const status = live?.health.snapshot().status
    const health: RuleStats['health'] =
      !stored.enabled || live?.disabled === true || status === 'disable'
        ? 'disabled'
        : status === 'failing' || live === undefined
          ? 'failing'
          : 'ok'
    const stats = this.#stats.get(key) ?? new RuleStatsRecorder()
    return stats.snapshot(this.#clock(), health, this.#deadLettersOf(tenantId, name))
  }

  /** Stops the timer and ignores messages from now on. Idempotent. */
  close(): Promise<void> {
    this.#closed = true
    this.#ticker.close()
    return Promise.resolve()
  }

  #apply(tenantId: string, name: string, stored: StoredRule | undefined): void {
    const key = keyOf(tenantId, name)
    const old = this.#index.get(tenantId, name)
    if (old !== undefined) this.#heartbeats.delete(old)
    this.#index.set(tenantId, name, undefined)
    if (stored === undefined) {
      this.#stored.delete(key)
      this.#stats.delete(key)
      return
    }
    this.#stored.set(key, stored)
    let stats = this.#stats.get(key)
    if (stats === undefined) {
      stats = new RuleStatsRecorder()
      this.#stats.set(key, stats)
    }
    if (!stored.enabled) return
    let compiled: CompiledRule
    try {
      compiled = compileRule(stored.definition, {
        ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      })
    } catch (err) {
      // Saved rules were compiled when saved; a newer build may still refuse one.
      const code = isStrataError(err) ? err.code : 'ANALYTICS_RULE_INVALID'
      stats.recordError(code, err instanceof Error ? err.message : String(err), this.#clock())
      this.#log.error({ err, tenantId, rule: name }, 'rule does not compile; not running it')
      return
    }
    const heartbeats = (stored.definition.operators ?? []).flatMap((o) =>
      o.type === 'heartbeat' ? [o.timeoutMs] : [],
    )
    const live: LiveRule = {
      stored,
      definition: stored.definition,
      compiled,
      health: new RuleHealth(this.#options.health),
      stats,
      needs: ruleNeeds(stored.definition),
      running: {
        tenantId,
        name,
        version: stored.version,
        actions: stored.definition.actions,
        deliveryPrefix: ruleDeliveryPrefix(tenantId, name),
      },
      heartbeatMs: heartbeats.length === 0 ? undefined : Math.min(...heartbeats),
      disabled: false,
    }
    this.#index.set(tenantId, name, live)
    if (live.heartbeatMs !== undefined) this.#heartbeats.add(live)
  }

  #evaluate(rule: LiveRule, message: RuleMessage, now: number, shared?: SharedInput): void {
    if (rule.disabled) return
    const context = this.#context.contextOf(message.deviceId, rule.needs)
    // one evaluation in 8 is timed: the percentiles come from a sample anyway, and reading the
    // clock twice per rule and record costs as much as a simple condition
    const timed = (rule.stats.evaluations & 7) === 0
    const started = timed ? performance.now() : 0
    const result = rule.compiled.evaluate(message, context, shared)
    this.#handle(rule, result, timed ? performance.now() - started : Number.NaN, now)
    if (rule.heartbeatMs !== undefined && result.selected) {
      this.#ticker.schedule(message.ts + rule.heartbeatMs)
    }
  }

  #handle(rule: LiveRule, result: RuleResult, latencyMs: number, now: number): void {
    rule.stats.recordEvaluation(result.selected, result.matched, latencyMs, now)
    this.totals.evaluations++
    if (!result.selected) return
    if (result.matched) this.totals.matches++
    const error = result.error
    if (error !== undefined) {
      this.totals.errors++
      rule.stats.recordError(error.code, error.message, now)
    }
    const verdict = rule.health.record(result, now)
    if (error !== undefined && verdict.consecutiveFailures === 1) {
      this.#log.warn(
        { tenantId: rule.running.tenantId, rule: rule.running.name, err: error },
        'rule evaluation failed',
      )
    }
    if (verdict.status === 'disable') {
      this.#disable(rule, verdict.consecutiveFailures, error, now)
      return
    }
    this.#actions.run(rule.running, result)
  }

  #disable(rule: LiveRule, failures: number, error: RuleResult['error'], now: number): void {
    if (rule.disabled) return
    rule.disabled = true
    this.#heartbeats.delete(rule)
    const { tenantId, name } = rule.running
    const reason = `disabled after ${String(failures)} failed evaluations in a row; the last: ${error?.code ?? 'unknown'}: ${error?.message ?? ''}`
    this.#log.warn({ tenantId, rule: name, err: error }, 'rule disabled after repeated failures')
    // Not inside the evaluation loop: the source's change comes back to #apply.
    setImmediate(() => {
      try {
        this.#source.disableForFailures(tenantId, name, reason.slice(0, 1024), now)
      } catch (err) {
        this.#log.error({ err, tenantId, rule: name }, 'could not disable a failing rule')
      }
    })
  }

  #tick(now: number): number | undefined {
    let next: number | undefined
    for (const rule of [...this.#heartbeats]) {
      if (rule.disabled) continue
      try {
        const started = performance.now()
        const results = rule.compiled.tick(now, (deviceId) =>
          this.#context.contextOf(deviceId, rule.needs),
        )
        const each = results.length === 0 ? 0 : (performance.now() - started) / results.length
        for (const result of results) this.#handle(rule, result, each, now)
        const deadline = rule.compiled.nextDeadline()
        if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline
      } catch (err) {
        this.#log.error({ err, rule: rule.running.name }, 'heartbeat tick failed')
      }
    }
    return next
  }

  #deadLettersOf(tenantId: string, name: string): number {
    const list = this.#listDeadLetters
    if (list === undefined) return 0
    const now = this.#clock()
    const refreshMs = this.#options.deadLetterRefreshMs ?? 5_000
    if (this.#deadLetters === undefined || now - this.#deadLetters.at > refreshMs) {
      const byPrefix = new Map<string, number>()
      try {
        let after = 0
        for (;;) {
          const page = list(after)
          for (const d of page) {
            if (!d.id.startsWith('r.')) continue
            const prefix = d.id.slice(0, 25)
            byPrefix.set(prefix, (byPrefix.get(prefix) ?? 0) + 1)
          }
          const last = page.at(-1)
          if (last === undefined || page.length < 1000) break
          after = last.seq
        }
      } catch (err) {
        this.#log.warn({ err }, 'could not count dead letters')
      }
      this.#deadLetters = { at: now, byPrefix }
    }
    return this.#deadLetters.byPrefix.get(ruleDeliveryPrefix(tenantId, name)) ?? 0
  }
}
