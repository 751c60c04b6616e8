import {
  decodeTelemetry,
  deviceTopics,
  isStrataError,
  parseTopicName,
  type LinePrecision,
  type PayloadFormat,
  type TelemetryRecord,
  type TopicKind,
} from '@strata/protocol'
import {
  reasonCodes,
  userPropertyValues,
  type BrokerMessage,
  type PublishVerdict,
  type ClientInfo,
  type ServerMessage,
} from '@strata/mqtt'
import type { Logger } from 'pino'
import { attributesOf } from '../broker-access/device-access.js'
import { TokenBuckets } from '../broker-access/token-bucket.js'
import type { DeviceErrors } from '../registry/device-errors.js'
import type { PresenceTracker } from '../registry/presence.js'
import { profileLimitsOf, type ProfileSpec } from '../registry/device-profiles.js'
import { checkAgainstProfile } from './profile-check.js'
import { toSeriesBatches } from './telemetry-batches.js'
import { isPointRefusal, type WriteBatcher } from './write-batcher.js'

/** What else handles a device's messages (provisioning, later twins and commands), by topic kind. */
export type MessageHandler = (client: ClientInfo, message: BrokerMessage) => Promise<PublishVerdict>

const precisions = new Set<string>(['s', 'ms', 'us', 'ns'])

/** A device message the node accepted (telemetry: once its points are durable). */
export interface AcceptedMessage {
  readonly tenantId: string
  readonly deviceId: string
  readonly topic: string
  readonly kind: TopicKind
  readonly format: PayloadFormat
  readonly payload: Uint8Array
  /** Epoch ms; also the time of telemetry records without their own. */
  readonly receivedAt: number
  /** Telemetry: the decoded records, so nobody decodes them twice. */
  readonly records?: readonly TelemetryRecord[]
}

/**
 * The broker's `onPublish` for devices: rate limits, then telemetry into the store — the PUBACK
 * waits until the points are durable, so an acknowledged reading is never lost. A refused message
 * gets its reason code and string (MQTT 5), is counted against the device, and its error goes to
 * the device's `errors` topic; it never affects other messages.
 */
export class DeviceMessages {
  readonly #batcher: WriteBatcher
  readonly #presence: PresenceTracker
  readonly #errors: DeviceErrors
  readonly #publish: (m: ServerMessage) => Promise<void>
  readonly #clock: () => number
  readonly #log: Logger
  readonly #rate: TokenBuckets
  readonly #handlers: Map<string, MessageHandler>
  readonly #onRefused: (code: string) => void
  readonly #profileOf: (deviceId: string) => ProfileSpec | undefined
  readonly #onAccepted: ((message: AcceptedMessage) => void) | undefined

  constructor(deps: {
    batcher: WriteBatcher
    presence: PresenceTracker
    errors: DeviceErrors
    publish: (m: ServerMessage) => Promise<void>
    clock: () => number
    log: Logger
    handlers?: ReadonlyMap<string, MessageHandler>
    /** Told the error code of every refused message (metrics). */
    onRefused?: (code: string) => void
    /** The device's profile: its limits and declared metrics (none: the defaults). */
    profileOf?: (deviceId: string) => ProfileSpec | undefined
    /**
     * Told of every accepted message (the rules engine), after the PUBACK's work is done and
     * before the PUBACK goes out. Must return at once and never throw; it is never awaited.
     */
    onAccepted?: (message: AcceptedMessage) => void
  }) {
    this.#batcher = deps.batcher
    this.#presence = deps.presence
    this.#errors = deps.errors
    this.#publish = deps.publish
    this.#clock = deps.clock
    this.#log = deps.log
    this.#handlers = new Map(deps.handlers)
    this.#onRefused = deps.onRefused ?? (() => undefined)
    this.#profileOf = deps.profileOf ?? (() => undefined)
    this.#onAccepted = deps.onAccepted
    const defaults = profileLimitsOf(undefined)
    this.#rate = new TokenBuckets(defaults.messagesPerSecond, defaults.burst, deps.clock)
  }

  async onPublish(client: ClientInfo, message: BrokerMessage): Promise<PublishVerdict> {
    const attrs = attributesOf(client)
    const parsed = parseTopicName(message.topic)
    if (attrs === undefined || parsed === undefined) return undefined
    if (attrs.kind === 'provisioning' || attrs.deviceId === undefined) {
      return this.#handlers.get(parsed.kind)?.(client, message)
    }
    const deviceId = attrs.deviceId
    this.#presence.seen(deviceId)
    const profile = this.#profileOf(deviceId)
    const limits = profileLimitsOf(profile)
    if (!this.#rate.take(deviceId, 1, limits.messagesPerSecond, limits.burst)) {
      return this.#refuse(
        deviceId,
        message.topic,
        reasonCodes.quotaExceeded,
        'CLOUD_RATE_LIMITED',
        'over the message rate limit of this device',
      )
    }
    if (parsed.kind !== 'telemetry') {
      const verdict = await this.#handlers.get(parsed.kind)?.(client, message)
      if (this.#onAccepted !== undefined && isAccepted(verdict)) {
        this.#accepted({
          tenantId: attrs.tenantId,
          deviceId,
          topic: message.topic,
          kind: parsed.kind,
          format: parsed.format,
          payload: message.payload,
          receivedAt: this.#clock(),
        })
      }
      return verdict
    }
    try {
      const precision = userPropertyValues(message.properties, 'precision')[0]
      const records = decodeTelemetry(message.payload, parsed.format, {
        maxBytes: limits.maxPayloadBytes,
        ...(precision !== undefined && precisions.has(precision)
          ? { precision: precision as LinePrecision }
          : {}),
      })
      checkAgainstProfile(profile, records)
      const receivedAt = this.#clock()
      await this.#batcher.write(
        toSeriesBatches({ tenantId: attrs.tenantId, deviceId }, records, receivedAt),
      )
      if (this.#onAccepted !== undefined) {
        this.#accepted({
          tenantId: attrs.tenantId,
          deviceId,
          topic: message.topic,
          kind: 'telemetry',
          format: parsed.format,
          payload: message.payload,
          receivedAt,
          records,
        })
      }
      return undefined
    } catch (err) {
      if (!isStrataError(err)) throw err
      if (err.code.startsWith('PROTOCOL_')) {
        return this.#refuse(
          deviceId,
          message.topic,
          reasonCodes.payloadFormatInvalid,
          err.code,
          err.message,
        )
      }
      if (isPointRefusal(err)) {
        return this.#refuse(
          deviceId,
          message.topic,
          reasonCodes.implementationSpecificError,
          err.code,
          err.message,
        )
      }
      this.#log.error({ err, deviceId }, 'telemetry not stored')
      return reasonCodes.unspecifiedError
    }
  }

  #accepted(accepted: AcceptedMessage): void {
    try {
      this.#onAccepted?.(accepted)
    } catch (err) {
      this.#log.error({ err, deviceId: accepted.deviceId }, 'a listener of accepted messages threw')
    }
  }

  #refuse(
    deviceId: string,
    topic: string,
    reasonCode: number,
    code: string,
    message: string,
  ): PublishVerdict {
    this.#errors.record(deviceId, code, message, topic)
    this.#onRefused(code)
    const body = JSON.stringify({ topic, error: { code, message }, ts: this.#clock() })
    this.#publish({ topic: deviceTopics(deviceId).errors, payload: body, qos: 1 }).catch(
      (err: unknown) => {
        this.#log.warn({ err, deviceId }, 'could not publish a device error')
      },
    )
    return { reasonCode, reason: `${code}: ${message}` }
  }
}

/** A handler's verdict lets the message through: no reason code, or one under 0x80. */
function isAccepted(verdict: PublishVerdict): boolean {
  if (verdict === undefined) return true
  return (typeof verdict === 'number' ? verdict : verdict.reasonCode) < 0x80
}
