import type { IPublishPacket } from 'mqtt'
import { DeviceError } from '../errors.js'
import { encodeJson } from './cloud-payload.js'
import type { PublishResult } from './device-connection.js'
import { describeReasonCode, isRetryablePuback } from './reason-codes.js'

/** The part of the connection the outbox uses. */
export interface OutboxConnection {
  publish(
    topic: string,
    payload: Uint8Array,
    options: { qos: 1; properties?: IPublishPacket['properties'] },
  ): Promise<PublishResult>
}

/**
 * Every message other than telemetry (twin reports and requests, events, command replies,
 * firmware progress) leaves through here as QoS 1 JSON. While offline, MQTT.js holds them and sends
 * them after the next connect; the outbox bounds how many may wait (reject when full: these are
 * replies and state the caller must know were not sent) and turns a refusing PUBACK into an error.
 */
export class Outbox {
  readonly #connection: OutboxConnection
  readonly #max: number
  #pending = 0
  #idle: (() => void)[] = []

  constructor(connection: OutboxConnection, maxMessages: number) {
    this.#connection = connection
    this.#max = maxMessages
  }

  get pending(): number {
    return this.#pending
  }

  /** Publishes `body` as JSON; resolves on the broker's acknowledgement, rejects on a refusal. */
  async publish(
    topic: string,
    body: unknown,
    properties?: IPublishPacket['properties'],
  ): Promise<void> {
    const payload = encodeJson(body, topic)
    if (this.#pending >= this.#max) {
      throw new DeviceError(
        'DEVICE_OUTBOX_FULL',
        `${String(this.#pending)} messages are waiting for the broker; ${topic} was not sent`,
        {
          hint: 'The device is offline or the broker is slow; retry later or raise outboxMaxMessages.',
          retryable: true,
        },
      )
    }
    this.#pending += 1
    try {
      const ack = await this.#connection.publish(
        topic,
        payload,
        properties === undefined ? { qos: 1 } : { qos: 1, properties },
      )
      if (ack.reasonCode >= 0x80) {
        throw new DeviceError(
          'DEVICE_PUBLISH_REFUSED',
          `the broker refused ${topic}: ${describeReasonCode(ack.reasonCode)}${ack.reason === undefined ? '' : ` (${ack.reason})`}`,
          {
            hint: isRetryablePuback(ack.reasonCode)
              ? 'The device is over its message rate; send less often and retry later.'
              : 'The message does not fit the protocol or the device profile; the reason says what to fix.',
            retryable: isRetryablePuback(ack.reasonCode),
            details: { reasonCode: ack.reasonCode },
          },
        )
      }
    } finally {
      this.#pending -= 1
      if (this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve()
    }
  }

  /** Resolves when nothing waits for an acknowledgement. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }
}
