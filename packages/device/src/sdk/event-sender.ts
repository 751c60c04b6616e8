import { decoder, DeviceEvent, isName } from '@strata/protocol'
import { DeviceError } from '../errors.js'
import type { Outbox } from './outbox.js'
import { errorMessage } from './twin-client.js'

/** `client.events`. */
export interface EventsApi {
  /**
   * Publishes an event to `events/{name}` (docs/protocol.md §6.1); stamps `ts` now when absent.
   * Resolves on PUBACK; while offline, when the connection is back.
   */
  send(name: string, event?: DeviceEvent): Promise<void>
}

const decodeEvent = decoder(DeviceEvent)

export class EventSender implements EventsApi {
  readonly #outbox: Outbox
  readonly #topic: (name: string) => string
  readonly #clock: () => number

  constructor(outbox: Outbox, topic: (name: string) => string, clock: () => number) {
    this.#outbox = outbox
    this.#topic = topic
    this.#clock = clock
  }

  async send(name: string, event: DeviceEvent = {}): Promise<void> {
    if (!isName(name)) {
      throw new DeviceError(
        'DEVICE_MESSAGE_INVALID',
        `event name ${JSON.stringify(name)} is not a name`,
        {
          hint: 'Event names are 1–128 of A–Z a–z 0–9 . _ -, not starting with . or _.',
        },
      )
    }
    let checked: DeviceEvent
    try {
      checked = decodeEvent({ ts: this.#clock(), ...event }, `event ${name}`)
    } catch (err) {
      throw new DeviceError('DEVICE_MESSAGE_INVALID', errorMessage(err), {
        hint: 'An event has optional ts, severity (info, warning, error, critical), message and data (an object).',
        cause: err,
      })
    }
    await this.#outbox.publish(this.#topic(name), checked)
  }
}
