import type { RuleAction, RuleActionType, RuleOutput, RuleResult } from '@strata/analytics'
import type { ServerMessage } from '@strata/mqtt'
import { encodeCbor, type JsonObject, type TelemetryValue } from '@strata/protocol'
import type { Logger } from 'pino'
import type { Principal } from '../accounts/roles.js'
import { ruleOutputTopic } from '../broker-access/app-topics.js'
import { CloudError } from '../errors.js'
import type { CommandInput } from '../commands/device-commands.js'
import type { EnqueueRequest } from './delivery/index.js'
import { alarmStep, type AlarmSink } from './rule-alarms.js'
import { ruleDeliveryId } from './rule-delivery-id.js'
import { outputAsCbor, outputAsJson, outputAsTelemetry } from './rule-output.js'

/** What rule actions reach in the node. Every call returns at once or gives a promise. */
export interface RuleActionHost {
  /** The durable delivery outbox (webhook, AMQP, NATS); undefined: those actions fail. */
  readonly outbox: { enqueue(request: EnqueueRequest): string } | undefined
  /** Writes values as telemetry of the device (the node's write batcher). */
  storeTelemetry(
    tenantId: string,
    deviceId: string,
    at: number,
    values: Record<string, TelemetryValue>,
  ): Promise<void>
  /** Publishes as the node. */
  publish(message: ServerMessage): Promise<void>
  /** Merges a patch into a twin's desired side (audited as the principal). */
  patchDesired(principal: Principal, deviceId: string, patch: JsonObject): void
  /** Queues a command (audited as the principal). */
  sendCommand(principal: Principal, deviceId: string, input: CommandInput): void
  /** The alarms service; undefined: alarm actions fail. */
  readonly alarms: AlarmSink | undefined
}

/** The rule a result belongs to. */
export interface RunningRule {
  readonly tenantId: string
  readonly name: string
  readonly version: number
  readonly actions: readonly RuleAction[]
  /** The prefix of this rule's delivery ids (`ruleDeliveryPrefix`). */
  readonly deliveryPrefix: string
}

/** How one action ended; `error` on failure. Async actions report when they settle. */
export type ActionOutcome = (
  rule: RunningRule,
  type: RuleActionType,
  error: { code: string; message: string } | undefined,
) => void

/**
 * Runs a rule's actions for one result, without ever blocking or throwing into the caller:
 * external actions are queued in the durable outbox (synchronous), internal ones are started and
 * their promises watched. Alarm actions run on every selected result (they clear, too); the
 * others only on a match.
 */
export class RuleActionsRunner {
  readonly #host: RuleActionHost
  readonly #log: Logger
  readonly #outcome: ActionOutcome

  constructor(host: RuleActionHost, log: Logger, outcome: ActionOutcome) {
    this.#host = host
    this.#log = log
    this.#outcome = outcome
  }

  run(rule: RunningRule, result: RuleResult): void {
    if (!result.selected) return
    const actions = rule.actions
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i] as RuleAction
      if (action.type !== 'alarm' && !result.matched) continue
      try {
        this.#run(rule, action, i, result)
      } catch (err) {
        this.#failed(rule, action.type, err)
      }
    }
  }

  #run(rule: RunningRule, action: RuleAction, index: number, result: RuleResult): void {
    const output: RuleOutput = result.output ?? {}
    const { deviceId, at } = result
    switch (action.type) {
      case 'alarm':
        return this.#alarm(rule, action, result)
      case 'webhook':
      case 'amqp':
      case 'nats': {
        const outbox = this.#host.outbox
        if (outbox === undefined) throw actionFailed('the delivery outbox is not available')
        outbox.enqueue({
          target: action,
          message: {
            rule: rule.name,
            ruleVersion: rule.version,
            deviceId,
            ts: at,
            output: outputAsJson(output),
          },
          id: ruleDeliveryId(rule.deliveryPrefix, rule.version, index, at, deviceId),
        })
        this.#outcome(rule, action.type, undefined)
        return
      }
      case 'store': {
        const values = outputAsTelemetry(output, action.prefix ?? '')
        if (Object.keys(values).length === 0)
          throw actionFailed('the output has no value that can be stored as telemetry')
        this.#watch(rule, 'store', this.#host.storeTelemetry(rule.tenantId, deviceId, at, values))
        return
      }
      case 'republish': {
        // Under the tenant's namespace: only its own applications may read it (app-access.ts).
        const topic = ruleOutputTopic(
          rule.tenantId,
          action.topic.replaceAll('{deviceId}', deviceId).replaceAll('{rule}', rule.name),
        )
        const payload =
          action.format === 'cbor'
            ? encodeCbor(outputAsCbor(output))
            : JSON.stringify(outputAsJson(output))
        this.#watch(
          rule,
          'republish',
          this.#host.publish({
            topic,
            payload,
            qos: action.qos ?? 0,
            retain: action.retain ?? false,
          }),
        )
        return
      }
      case 'set-desired': {
        const patch = (action.patch as JsonObject | undefined) ?? outputAsJson(output)
        this.#host.patchDesired(principalOf(rule), action.device ?? deviceId, patch)
        this.#outcome(rule, action.type, undefined)
        return
      }
      case 'command': {
        const params = (action.params as JsonObject | undefined) ?? outputAsJson(output)
        this.#host.sendCommand(principalOf(rule), action.device ?? deviceId, {
          name: action.name,
          params,
          ...(action.timeoutMs === undefined
            ? {}
            : { timeoutS: Math.max(1, Math.ceil(action.timeoutMs / 1000)) }),
        })
        this.#outcome(rule, action.type, undefined)
        return
      }
    }
  }

  #alarm(
    rule: RunningRule,
    action: Extract<RuleAction, { type: 'alarm' }>,
    result: RuleResult,
  ): void {
    const alarms = this.#host.alarms
    if (alarms === undefined) {
      if (result.matched) throw actionFailed('the alarms service is not available')
      return
    }
    const { deviceId, at } = result
    const step = alarmStep(result, action.autoClear ?? true, () =>
      alarms.isOpen(rule.tenantId, deviceId, action.name),
    )
    if (step === 'none') return
    if (step === 'raise') {
      alarms.raise({
        tenantId: rule.tenantId,
        deviceId,
        type: action.name,
        severity: action.severity,
        ...(action.message === undefined ? {} : { message: action.message }),
        ...(result.output === undefined ? {} : { details: outputAsJson(result.output) }),
        source: { rule: rule.name, ruleVersion: rule.version },
        at,
      })
    } else {
      alarms.clear({
        tenantId: rule.tenantId,
        deviceId,
        type: action.name,
        at,
        by: `rule:${rule.name}`,
      })
    }
    this.#outcome(rule, 'alarm', undefined)
  }

  #watch(rule: RunningRule, type: RuleActionType, work: Promise<void>): void {
    work.then(
      () => {
        this.#outcome(rule, type, undefined)
      },
      (err: unknown) => {
        this.#failed(rule, type, err)
      },
    )
  }

  #failed(rule: RunningRule, type: RuleActionType, err: unknown): void {
    const code =
      typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string'
        ? (err as { code: string }).code
        : 'CLOUD_RULE_ACTION_FAILED'
    const message = err instanceof Error ? err.message : String(err)
    this.#log.warn(
      { tenantId: rule.tenantId, rule: rule.name, action: type, code, err },
      'rule action failed',
    )
    this.#outcome(rule, type, { code, message })
  }
}

/**
 * The identity a rule acts as on twins and commands: audited as `rule:<name>` in its tenant,
 * with the operator role (twin writes and commands, nothing else it could use).
 */
export function principalOf(rule: { readonly tenantId: string; readonly name: string }): Principal {
  return {
    kind: 'token',
    id: `rule:${rule.name}`,
    tenantId: rule.tenantId,
    role: 'operator',
    platformAdmin: false,
    actor: `rule:${rule.name}`,
  }
}

function actionFailed(message: string): CloudError {
  return new CloudError('CLOUD_RULE_ACTION_FAILED', message, {
    hint: 'The node is missing a service this action needs, or the output does not fit it.',
  })
}
