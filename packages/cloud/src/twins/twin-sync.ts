import { deviceTopics } from '@strata/protocol'
import type { ServerMessage } from '@strata/mqtt'
import type { Logger } from 'pino'
import type { DeviceTwins } from './device-twins.js'
import { filterMatches, type DeviceSubscriptions } from './device-subscriptions.js'
import type { JsonObject } from '@strata/protocol'

/**
 * Sends the desired side to devices. Each change goes out as a delta `{version, desired: patch}`
 * on `twin/desired` at QoS 1, so a sleeping device with a persistent session gets it on wake (the
 * broker queues it). The node also tracks the last desired version each device is known to hold
 * (`deliveredVersion`: a delta sent while it listened, a `twin/document` it asked for, or a full
 * resend); when a device connects or subscribes to `twin/desired` holding an older one — its
 * session expired, or it never had one — the whole desired document goes out as the delta.
 * A device may therefore see a version twice; it applies a delta only when its version is newer.
 */
export class TwinSync {
  readonly #twins: DeviceTwins
  readonly #subscriptions: DeviceSubscriptions
  readonly #publish: (m: ServerMessage) => Promise<void>
  readonly #log: Logger
  readonly #pending = new Set<NodeJS.Immediate>()
  #closed = false

  constructor(deps: {
    twins: DeviceTwins
    subscriptions: DeviceSubscriptions
    publish: (m: ServerMessage) => Promise<void>
    log: Logger
  }) {
    this.#twins = deps.twins
    this.#subscriptions = deps.subscriptions
    this.#publish = deps.publish
    this.#log = deps.log.child({ component: 'twin-sync' })
    deps.twins.onDesiredChange((id, version, patch) => this.#changed(id, version, patch))
    deps.subscriptions.on((event) => {
      const topic = deviceTopics(event.deviceId).twinDesired
      const filters = event.kind === 'connect' ? event.filters : [event.filter]
      // After a SUBSCRIBE the broker adds the subscription right after asking us: send on the
      // next turn, when it exists.
      if (filters.some((f) => filterMatches(f, topic))) this.#later(event.deviceId)
    })
  }

  /** Sends the whole desired document when the device holds an older version than the twin's. */
  async sync(deviceId: string): Promise<void> {
    if (this.#closed) return
    const twin = this.#twins.read(deviceId)
    const version = twin.desired.version
    if (version === 0 || twin.deliveredVersion >= version) return
    // Marked first, so that a connect and a subscribe in the same moment send it once.
    this.#twins.markDelivered(deviceId, version)
    await this.#send(deviceId, version, twin.desired.document)
  }

  /** Stops scheduled resends. Idempotent. */
  close(): Promise<void> {
    this.#closed = true
    for (const p of this.#pending) clearImmediate(p)
    this.#pending.clear()
    return Promise.resolve()
  }

  #changed(deviceId: string, version: number, patch: JsonObject): void {
    const listening = this.#subscriptions.listening(deviceId, deviceTopics(deviceId).twinDesired)
    this.#send(deviceId, version, patch)
      .then(() => {
        if (listening && !this.#closed) this.#twins.markDelivered(deviceId, version)
      })
      .catch(() => undefined) // #send logged it
  }

  #later(deviceId: string): void {
    const p = setImmediate(() => {
      this.#pending.delete(p)
      this.sync(deviceId).catch((err: unknown) =>
        this.#log.warn({ err, deviceId }, 'twin resend failed'),
      )
    })
    this.#pending.add(p)
  }

  async #send(deviceId: string, version: number, desired: JsonObject): Promise<void> {
    try {
      await this.#publish({
        topic: deviceTopics(deviceId).twinDesired,
        payload: JSON.stringify({ version, desired }),
        qos: 1,
      })
    } catch (err) {
      this.#log.warn({ err, deviceId, version }, 'desired delta not sent')
      throw err
    }
  }
}
