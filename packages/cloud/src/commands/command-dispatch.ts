import { deviceTopics } from '@strata/protocol'
import type { ServerMessage } from '@strata/mqtt'
import type { Logger } from 'pino'
import { filterMatches, type DeviceSubscriptions } from '../twins/device-subscriptions.js'
import type { Command } from './command-store.js'
import type { DeviceCommands } from './device-commands.js'

export interface CommandDispatchOptions {
  /** Commands published at once (default 100): the next batch waits for this one. */
  readonly batchSize: number
  /** How often open commands past their deadline are expired (default 1 s). */
  readonly sweepIntervalMs: number
}

export const defaultCommandDispatchOptions: CommandDispatchOptions = {
  batchSize: 100,
  sweepIntervalMs: 1000,
}

/**
 * Publishes commands to devices: `commands/request/{name}` with `{id, params, expiresAt}` at QoS 1,
 * the MQTT 5 response topic `…/commands/response/{id}` and the command id as correlation data, and
 * a message expiry at `expiresAt` (so the broker drops it from a sleeping device's queue when it is
 * no longer wanted). The queue is the `commands` table: queued commands not yet sent go out a batch
 * at a time, in order, also after a restart. When a device subscribes to its command topic in a
 * session that did not have that subscription (a new session, or one that expired), its queued
 * commands are published again, since the broker had nowhere to keep them. Also runs the expiry
 * sweep on a timer.
 */
export class CommandDispatch {
  readonly #commands: DeviceCommands
  readonly #publish: (m: ServerMessage) => Promise<void>
  readonly #clock: () => number
  readonly #log: Logger
  readonly #options: CommandDispatchOptions
  readonly #timer: NodeJS.Timeout
  #draining: Promise<void> | undefined
  #again = false
  #closed = false

  constructor(
    deps: {
      commands: DeviceCommands
      subscriptions: DeviceSubscriptions
      publish: (m: ServerMessage) => Promise<void>
      clock: () => number
      log: Logger
    },
    options: Partial<CommandDispatchOptions> = {},
  ) {
    this.#commands = deps.commands
    this.#publish = deps.publish
    this.#clock = deps.clock
    this.#log = deps.log.child({ component: 'command-dispatch' })
    this.#options = { ...defaultCommandDispatchOptions, ...options }
    deps.commands.onQueued(() => this.kick())
    deps.subscriptions.on((event) => {
      if (event.kind !== 'subscribe' || !event.fresh) return
      // The subscription exists once the broker's SUBSCRIBE handling finishes: next turn.
      setImmediate(() => this.#resend(event.deviceId, event.filter))
    })
    this.#timer = setInterval(() => this.#sweep(), this.#options.sweepIntervalMs)
    this.#timer.unref()
    this.kick()
  }

  /** Starts publishing queued commands unless it is already doing so. */
  kick(): void {
    if (this.#closed) return
    if (this.#draining !== undefined) {
      this.#again = true
      return
    }
    this.#draining = this.#drain()
      .catch((err: unknown) => this.#log.error({ err }, 'command dispatch failed'))
      .finally(() => {
        this.#draining = undefined
        if (this.#again) {
          this.#again = false
          this.kick()
        }
      })
  }

  /** Stops the sweep timer and waits for the batch in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#draining
  }

  async #drain(): Promise<void> {
    while (!this.#closed) {
      this.#commands.sweep()
      const batch = this.#commands.store.unsent(this.#options.batchSize)
      if (batch.length === 0) return
      await Promise.all(batch.map((c) => this.#send(c)))
    }
  }

  async #send(command: Command): Promise<void> {
    const now = this.#clock()
    const topics = deviceTopics(command.deviceId)
    try {
      await this.#publish({
        topic: topics.commandRequest(command.name),
        payload: JSON.stringify({
          id: command.id,
          params: command.params,
          expiresAt: command.expiresAt,
        }),
        qos: 1,
        properties: {
          responseTopic: topics.commandResponse(command.id),
          correlationData: Buffer.from(command.id),
          messageExpiryInterval: Math.max(1, Math.ceil((command.expiresAt - now) / 1000)),
          contentType: 'application/json',
        },
      })
    } catch (err) {
      // Left unsent: the next kick (a new command, a restart) tries again.
      this.#log.warn({ err, commandId: command.id }, 'command not published')
      return
    }
    if (!this.#closed) this.#commands.store.markSent(command.id, now)
  }

  #resend(deviceId: string, filter: string): void {
    if (this.#closed) return
    const open = this.#commands.store
      .openFor(deviceId, this.#clock())
      .filter((c) => c.sentAt !== null)
      .filter((c) => filterMatches(filter, deviceTopics(deviceId).commandRequest(c.name)))
    if (open.length === 0) return
    this.#log.debug({ deviceId, commands: open.length }, 'commands published again')
    const send = async () => {
      for (let i = 0; i < open.length; i += this.#options.batchSize)
        await Promise.all(open.slice(i, i + this.#options.batchSize).map((c) => this.#send(c)))
    }
    send().catch((err: unknown) => this.#log.warn({ err, deviceId }, 'command resend failed'))
  }

  #sweep(): void {
    if (this.#closed) return
    try {
      const n = this.#commands.sweep()
      if (n > 0) this.#log.debug({ expired: n }, 'commands expired')
    } catch (err) {
      this.#log.error({ err }, 'command sweep failed')
    }
  }
}
