import { randomBytes } from 'node:crypto'
import { setImmediate as yieldToEvents } from 'node:timers/promises'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import type { Page } from '../http/cursor.js'
import type { Device } from '../registry/device-registry.js'
import type { JsonObject } from '@strata/protocol'
import type { CommandInput, DeviceCommands } from './device-commands.js'

/** A command sent to every device of a group, and how far it got. */
export interface CommandJob {
  readonly id: string
  readonly tenantId: string
  readonly groupId: string
  readonly name: string
  readonly params: JsonObject
  readonly timeoutS: number
  readonly expiresInS: number
  /** Devices the group had when the job started: one command each. */
  readonly total: number
  readonly queued: number
  readonly delivered: number
  readonly succeeded: number
  readonly failed: number
  readonly expired: number
  /** True once every command has a final status. */
  readonly done: boolean
  readonly createdBy: string
  readonly createdAt: number
}

export interface CommandJobOptions {
  /** Most devices one job reaches (default 100,000); a larger group is `CLOUD_INVALID`. */
  readonly maxDevices: number
  /** Commands created per transaction (default 500); the event loop runs between batches. */
  readonly batchSize: number
}

export const defaultCommandJobOptions: CommandJobOptions = { maxDevices: 100_000, batchSize: 500 }

interface JobRow {
  id: string
  tenant_id: string
  group_id: string
  name: string
  params: string
  timeout_s: number
  expires_in_s: number
  total: number
  created_by: string
  created_at: number
}

/**
 * Bulk commands: one command per member of a group (its members when the job starts), created in
 * batches (one transaction each, the event loop free between them) and published by the node's
 * dispatcher a batch at a time. Progress is counted from the commands' statuses.
 */
export class CommandJobs {
  readonly #db: StateDb
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #commands: DeviceCommands
  readonly #members: (
    principal: Principal,
    groupId: string,
    q: { limit: number; cursor?: string },
  ) => Page<Device>
  readonly #options: CommandJobOptions

  constructor(
    deps: {
      db: StateDb
      audit: AuditLog
      clock: () => number
      commands: DeviceCommands
      /** A page of a group's members (`DeviceGroups.members`): checks the group's tenant. */
      members: (
        principal: Principal,
        groupId: string,
        q: { limit: number; cursor?: string },
      ) => Page<Device>
    },
    options: Partial<CommandJobOptions> = {},
  ) {
    this.#db = deps.db
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#commands = deps.commands
    this.#members = deps.members
    this.#options = { ...defaultCommandJobOptions, ...options }
  }

  /** Sends a command to every device of a group; resolves once every command is queued. */
  async start(principal: Principal, groupId: string, input: CommandInput): Promise<CommandJob> {
    requirePermission(principal, 'commands:send')
    const spec = this.#commands.checkInput(input)
    const devices = this.#allMembers(principal, groupId)
    const id = `j-${randomBytes(12).toString('base64url')}`
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO command_jobs (id, tenant_id, group_id, name, params, timeout_s, expires_in_s, total, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          principal.tenantId,
          groupId,
          spec.name,
          JSON.stringify(spec.params),
          spec.timeoutS,
          spec.expiresInS,
          devices.length,
          principal.actor,
          this.#clock(),
        )
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: 'command.job.start',
        target: `group:${groupId}`,
        outcome: 'ok',
        details: { jobId: id, name: spec.name, total: devices.length },
      })
    })()
    for (let i = 0; i < devices.length; i += this.#options.batchSize) {
      const batch = devices.slice(i, i + this.#options.batchSize)
      this.#db.transaction(() => {
        for (const device of batch) this.#commands.queue(principal, device, spec, id)
      })()
      this.#commands.notifyQueued()
      await yieldToEvents()
    }
    return this.get(principal, id)
  }

  /** A job of the caller's tenant with its progress. */
  get(principal: Principal, jobId: string): CommandJob {
    requirePermission(principal, 'commands:read')
    this.#commands.sweep()
    const row = this.#db.prepare('SELECT * FROM command_jobs WHERE id = ?').get(jobId) as
      JobRow | undefined
    if (row?.tenant_id !== principal.tenantId) throw notFound('command job', jobId)
    const counts = this.#commands.store.countsForJob(row.id)
    const created = Object.values(counts).reduce((a, b) => a + b, 0)
    const n = (s: keyof typeof counts) => counts[s] ?? 0
    // Commands not created yet (the job is still starting) count as queued.
    const queued = n('queued') + Math.max(0, row.total - created)
    const delivered = n('delivered')
    return {
      id: row.id,
      tenantId: row.tenant_id,
      groupId: row.group_id,
      name: row.name,
      params: JSON.parse(row.params) as JsonObject,
      timeoutS: row.timeout_s,
      expiresInS: row.expires_in_s,
      total: row.total,
      queued,
      delivered,
      succeeded: n('succeeded'),
      failed: n('failed'),
      expired: n('expired'),
      done: queued + delivered === 0,
      createdBy: row.created_by,
      createdAt: row.created_at,
    }
  }

  /** Every member of the group, a page at a time; refuses a group over the limit. */
  #allMembers(principal: Principal, groupId: string): Device[] {
    const devices: Device[] = []
    let cursor: string | undefined
    do {
      const page = this.#members(principal, groupId, {
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
      })
      devices.push(...page.items)
      if (devices.length > this.#options.maxDevices) {
        throw new CloudError(
          'CLOUD_INVALID',
          `group ${groupId} has more than ${String(this.#options.maxDevices)} devices`,
          {
            hint: 'Split the group (labels make dynamic groups easy to split) and start one job per part.',
            details: { field: 'groupId' },
          },
        )
      }
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return devices
  }
}
