import {
  decodeTelemetry,
  deviceTopics,
  isStrataError,
  parseTopicName,
  type LinePrecision,
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
    if (parsed.kind !== 'telemetry') return this.#handlers.get(parsed.kind)?.(client, message)
    try {
      const precision = userPropertyValues(message.properties, 'precision')[0]
      const records = decodeTelemetry(message.payload, parsed.format, {
        maxBytes: limits.maxPayloadBytes,
        ...(precision !== undefined && precisions.has(precision)
          ? { precision: precision as LinePrecision }
          : {}),
      })
      checkAgainstProfile(profile, records)
      await this.#batcher.write(
        toSeriesBatches({ tenantId: attrs.tenantId, deviceId }, records, this.#clock()),
      )
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
