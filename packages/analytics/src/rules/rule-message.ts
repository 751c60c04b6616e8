import type { DeviceMessage } from '@strata/protocol'
import type { TwinFacts } from './rule-expression.js'
import type { RuleTopicKind } from './rule-definition.js'

/**
 * One message as a rule sees it. A telemetry message with several records is several rule
 * messages, one per record: `payload` is that record's values, `ts` its timestamp.
 */
export interface RuleMessage {
  readonly deviceId: string
  readonly kind: RuleTopicKind
  readonly topic: string
  /** Epoch ms: the record's or event's own timestamp, else when the message was received. */
  readonly ts: number
  readonly payload: Readonly<Record<string, unknown>>
  /** Telemetry record tags. */
  readonly tags?: Readonly<Record<string, string>>
}

/** What the host knows about the device when it evaluates a rule. */
export interface RuleContext {
  readonly device?: {
    readonly labels?: Readonly<Record<string, string>>
    readonly attributes?: Readonly<Record<string, unknown>>
  }
  readonly twin?: TwinFacts
  /** Epoch ms the expressions see as `now` (default: the message's `ts`, or the tick's time). */
  readonly now?: number
}

/**
 * Turns a decoded device message into the messages rules evaluate: one per telemetry record,
 * one for an event (payload: the event), a twin report (the patch), a command response or a
 * firmware progress report. Requests (`twin/get`, `firmware/get`, provisioning, certificates)
 * carry no data for rules and give none.
 *
 * @example
 * const topic = parseTopicName(name)!
 * const decoded = decodeDeviceMessage(topic.kind, topic.format, bytes)
 * for (const m of ruleMessagesOf(topic.owner, name, decoded, Date.now())) rule.evaluate(m, ctx)
 */
export function ruleMessagesOf(
  deviceId: string,
  topic: string,
  message: DeviceMessage,
  receivedAt: number,
): RuleMessage[] {
  // literals, not `{...base, …}`: V8 clones a spread-then-extended object slowly, per record
  switch (message.kind) {
    case 'telemetry':
      return message.records.map((r): RuleMessage =>
        r.tags === undefined
          ? { deviceId, topic, kind: 'telemetry', ts: r.ts ?? receivedAt, payload: r.values }
          : {
              deviceId,
              topic,
              kind: 'telemetry',
              ts: r.ts ?? receivedAt,
              payload: r.values,
              tags: r.tags,
            },
      )
    case 'event':
      return [
        {
          deviceId,
          topic,
          kind: 'event',
          ts: message.event.ts ?? receivedAt,
          payload: message.event,
        },
      ]
    case 'twin.reported':
      return [{ deviceId, topic, kind: 'twin.reported', ts: receivedAt, payload: message.patch }]
    case 'command.response':
      return [
        { deviceId, topic, kind: 'command.response', ts: receivedAt, payload: message.response },
      ]
    case 'firmware.progress':
      return [
        { deviceId, topic, kind: 'firmware.progress', ts: receivedAt, payload: message.progress },
      ]
    default:
      return []
  }
}
