import { isName, type CommandResponse } from '@strata/protocol'
import { randomBytes } from 'node:crypto'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { pageOf, seqCursor, type Page } from '../http/cursor.js'
import type { Device } from '../registry/device-registry.js'
import type { JsonObject } from '@strata/protocol'
import { CommandStore, type Command, type CommandStatus } from './command-store.js'

/** Bounds and defaults of commands. */
export interface CommandOptions {
  /** Seconds a command waits to be picked up when the request names none (default 1 hour). */
  readonly defaultExpiresInS: number
  readonly maxExpiresInS: number
  /** Seconds for a final answer after `accepted` when the request names none (default 5 min). */
  readonly defaultTimeoutS: number
  readonly maxTimeoutS: number
  /** Commands one device may have awaiting an answer (default 1,000); more is `CLOUD_CONFLICT`. */
  readonly maxOpenPerDevice: number
  /** Largest `params`, in bytes of JSON (default 64 KiB: what a device accepts). */
  readonly maxParamsBytes: number
}

export const defaultCommandOptions: CommandOptions = {
  defaultExpiresInS: 3600,
  maxExpiresInS: 30 * 24 * 3600,
  defaultTimeoutS: 300,
  maxTimeoutS: 7 * 24 * 3600,
  maxOpenPerDevice: 1000,
  maxParamsBytes: 60 * 1024,
}

/** What a caller asks a device to do. */
export interface CommandInput {
  readonly name: string
  readonly params?: JsonObject
  readonly timeoutS?: number
  readonly expiresInS?: number
}

/** A command was created (`queued`) or moved on to another status. */
export interface CommandStatusChange {
  readonly tenantId: string
  readonly deviceId: string
  readonly id: string
  readonly name: string
  readonly status: CommandStatus
}

/** Told each {@link CommandStatusChange} after it is committed; must return at once. */
export type CommandStatusListener = (change: CommandStatusChange) => void

/** What happened to a device's answer. */
export type ResponseOutcome = 'updated' | 'late' | 'duplicate'

/**
 * Commands to devices: created queued (permission `commands:send`, audited), handed to the node's
 * dispatcher to publish, moved on by the device's answers, expired past their deadline by `sweep`
 * (run on a timer and before every read, with the injected clock).
 */
export class DeviceCommands {
  readonly store: CommandStore
  readonly options: CommandOptions
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #lookup: (deviceId: string) => Device | undefined
  readonly #listeners: (() => void)[] = []
  readonly #statusListeners: CommandStatusListener[] = []
  /** Commands queued since the last `notifyQueued` (their transaction has committed by then). */
  #created: CommandStatusChange[] = []

  constructor(
    deps: {
      db: StateDb
      audit: AuditLog
      clock: () => number
      lookup: (deviceId: string) => Device | undefined
    },
    options: Partial<CommandOptions> = {},
  ) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#lookup = deps.lookup
    this.options = { ...defaultCommandOptions, ...options }
    this.store = new CommandStore(deps.db)
  }

  /** Registers a listener told when new commands wait to be published. */
  onQueued(listener: () => void): void {
    this.#listeners.push(listener)
  }

  /** Registers a listener told of every command created and every status change (the live feed). */
  onStatusChange(listener: CommandStatusListener): void {
    this.#statusListeners.push(listener)
  }

  /** Queues a command to one device of the caller's tenant. */
  send(principal: Principal, deviceId: string, input: CommandInput): Command {
    requirePermission(principal, 'commands:send')
    const device = this.#own(principal, deviceId)
    if (device.state === 'revoked')
      throw new CloudError('CLOUD_CONFLICT', `device ${deviceId} is revoked`)
    const spec = this.checkInput(input)
    const id = this.#db.transaction(() => {
      if (this.store.openCount(device.id) >= this.options.maxOpenPerDevice) {
        throw new CloudError(
          'CLOUD_CONFLICT',
          `device ${deviceId} has ${String(this.options.maxOpenPerDevice)} commands awaiting an answer`,
          { hint: 'Wait for them to finish or expire before sending more.' },
        )
      }
      return this.queue(principal, device, spec, null)
    })()
    this.notifyQueued()
    return this.store.get(id) as Command
  }

  /** Validates a command request and fills in its defaults. */
  checkInput(input: CommandInput): Required<CommandInput> {
    if (!isName(input.name)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `command name ${JSON.stringify(input.name.slice(0, 80))} must be 1–128 of A–Z a–z 0–9 . _ -, not starting with . or _`,
        { details: { field: 'name' } },
      )
    }
    const params = input.params ?? {}
    if (Buffer.byteLength(JSON.stringify(params)) > this.options.maxParamsBytes) {
      throw new CloudError(
        'CLOUD_INVALID',
        `command params are over ${String(this.options.maxParamsBytes)} bytes of JSON`,
        { details: { field: 'params' } },
      )
    }
    const o = this.options
    const bounded = (field: string, value: number | undefined, fallback: number, max: number) => {
      const v = value ?? fallback
      if (!Number.isInteger(v) || v < 1 || v > max) {
        throw new CloudError('CLOUD_INVALID', `${field} must be 1–${String(max)} seconds`, {
          details: { field },
        })
      }
      return v
    }
    return {
      name: input.name,
      params,
      timeoutS: bounded('timeoutS', input.timeoutS, o.defaultTimeoutS, o.maxTimeoutS),
      expiresInS: bounded('expiresInS', input.expiresInS, o.defaultExpiresInS, o.maxExpiresInS),
    }
  }

  /** Inserts a queued command and audits it; inside the caller's transaction. Returns its id. */
  queue(
    principal: Principal,
    device: Device,
    spec: Required<CommandInput>,
    jobId: string | null,
  ): string {
    const now = this.#clock()
    const id = `c-${randomBytes(12).toString('base64url')}`
    this.store.insert({
      id,
      tenantId: device.tenantId,
      deviceId: device.id,
      jobId,
      name: spec.name,
      params: spec.params,
      timeoutS: spec.timeoutS,
      createdBy: principal.actor,
      createdAt: now,
      expiresAt: now + spec.expiresInS * 1000,
    })
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'command.send',
      target: `device:${device.id}`,
      outcome: 'ok',
      details: { commandId: id, name: spec.name, ...(jobId === null ? {} : { jobId }) },
    })
    if (this.#statusListeners.length > 0) {
      this.#created.push({
        tenantId: device.tenantId,
        deviceId: device.id,
        id,
        name: spec.name,
        status: 'queued',
      })
    }
    return id
  }

  /** Tells the dispatcher that commands wait (and status listeners which ones were created). */
  notifyQueued(): void {
    const created = this.#created
    this.#created = []
    for (const change of created) this.#changed(change)
    for (const listener of this.#listeners) listener()
  }

  /** One command of the caller's tenant. */
  get(principal: Principal, commandId: string): Command {
    requirePermission(principal, 'commands:read')
    this.sweep()
    const command = this.store.get(commandId)
    if (command?.tenantId !== principal.tenantId) throw notFound('command', commandId)
    return command
  }

  /** One page of a device's commands, newest first. */
  list(
    principal: Principal,
    deviceId: string,
    q: { limit: number; cursor?: string },
  ): Page<Command> {
    requirePermission(principal, 'commands:read')
    const device = this.#own(principal, deviceId)
    this.sweep()
    const rows = this.store.listForDevice(device.id, seqCursor(q.cursor), q.limit + 1)
    const page = pageOf(rows, q.limit, (r) => String(r.rowid))
    return { items: page.items.map((r) => r.command), nextCursor: page.nextCursor }
  }

  /**
   * A device's answer to command `commandId`. `CLOUD_COMMAND_UNKNOWN` when there is no such
   * command for this device. An answer after the deadline is kept as `lateResponse`, and a repeat
   * of a final answer (QoS 1 redelivery) changes nothing.
   */
  respond(deviceId: string, commandId: string, response: CommandResponse): ResponseOutcome {
    const now = this.#clock()
    let expired: readonly CommandStatusChange[] = []
    let changed: CommandStatusChange | undefined
    const outcome = this.#db.transaction((): ResponseOutcome => {
      expired = this.#expire(now)
      const command = this.store.get(commandId)
      if (command?.deviceId !== deviceId) {
        throw new CloudError(
          'CLOUD_COMMAND_UNKNOWN',
          `device ${deviceId} has no command ${JSON.stringify(commandId)}`,
          { hint: 'Answer with the id of a command this device received.' },
        )
      }
      if (command.status === 'expired') {
        this.store.recordLate(command.id, response, now)
        return 'late'
      }
      if (command.status === 'succeeded' || command.status === 'failed') return 'duplicate'
      if (response.status === 'accepted') {
        if (command.status !== 'queued') return 'duplicate'
        this.store.markDelivered(command.id, now)
      } else {
        this.store.finish(command.id, response, now)
      }
      changed = {
        tenantId: command.tenantId,
        deviceId: command.deviceId,
        id: command.id,
        name: command.name,
        status: response.status === 'accepted' ? 'delivered' : response.status,
      }
      return 'updated'
    })()
    for (const change of expired) this.#changed(change)
    if (changed !== undefined) this.#changed(changed)
    return outcome
  }

  /** Expires open commands past their deadline; returns how many. */
  sweep(): number {
    const expired = this.#expire(this.#clock())
    for (const change of expired) this.#changed(change)
    return expired.length
  }

  #expire(now: number): CommandStatusChange[] {
    return this.store.expireOverdue(now).map((c) => ({ ...c, status: 'expired' as const }))
  }

  #changed(change: CommandStatusChange): void {
    for (const listener of this.#statusListeners) listener(change)
  }

  #own(principal: Principal, deviceId: string): Device {
    const device = this.#lookup(deviceId)
    if (device?.tenantId !== principal.tenantId) throw notFound('device', deviceId)
    return device
  }
}
