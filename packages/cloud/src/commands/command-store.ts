import type { CommandResponse } from '@strata/protocol'
import type { StateDb } from '../db/state-db.js'
import type { JsonObject } from '@strata/protocol'

/** Where a command is: queued → delivered → succeeded | failed, or expired before a final answer. */
export const commandStatuses = ['queued', 'delivered', 'succeeded', 'failed', 'expired'] as const
export type CommandStatus = (typeof commandStatuses)[number]

/** A command to one device, as stored and shown. */
export interface Command {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  /** The bulk job it belongs to, if any. */
  readonly jobId: string | null
  readonly name: string
  readonly params: JsonObject
  readonly status: CommandStatus
  /** Why the status is what it is, when it is not obvious (expiry, a refused late answer). */
  readonly statusReason: string
  /** Seconds the device has for a final answer once it accepted the command. */
  readonly timeoutS: number
  readonly createdBy: string
  readonly createdAt: number
  /** The device must pick it up (answer at all) before this time; sent with the request. */
  readonly expiresAt: number
  /** When it expires unless answered: `expiresAt` while queued, acceptance + `timeoutS` after. */
  readonly deadlineAt: number
  /** When the node handed it to the broker. */
  readonly sentAt: number | null
  /** When the device first answered (`accepted` or a final status). */
  readonly deliveredAt: number | null
  readonly finishedAt: number | null
  readonly result: JsonObject | null
  readonly error: { readonly code: string; readonly message: string } | null
  /** An answer that came after the command expired: kept, but it does not change the status. */
  readonly lateResponse: (CommandResponse & { readonly at: number }) | null
}

/** A command the expiry sweep just expired. */
export interface ExpiredCommand {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  readonly name: string
}

/** What a new command row holds. */
export interface NewCommandRow {
  readonly id: string
  readonly tenantId: string
  readonly deviceId: string
  readonly jobId: string | null
  readonly name: string
  readonly params: JsonObject
  readonly timeoutS: number
  readonly createdBy: string
  readonly createdAt: number
  readonly expiresAt: number
}

interface CommandRow {
  id: string
  tenant_id: string
  device_id: string
  job_id: string | null
  name: string
  params: string
  status: CommandStatus
  status_reason: string
  timeout_s: number
  created_by: string
  created_at: number
  expires_at: number
  deadline_at: number
  sent_at: number | null
  delivered_at: number | null
  finished_at: number | null
  result: string | null
  error: string | null
  late_response: string | null
  late_at: number | null
}

/** Commands and their state in the state database; the caller checks tenants and permissions. */
export class CommandStore {
  readonly #db: StateDb

  constructor(db: StateDb) {
    this.#db = db
  }

  insert(c: NewCommandRow): void {
    this.#db
      .prepare(
        `INSERT INTO commands (id, tenant_id, device_id, job_id, name, params, status, timeout_s, created_by,
           created_at, expires_at, deadline_at)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.tenantId,
        c.deviceId,
        c.jobId,
        c.name,
        JSON.stringify(c.params),
        c.timeoutS,
        c.createdBy,
        c.createdAt,
        c.expiresAt,
        c.expiresAt,
      )
  }

  get(id: string): Command | undefined {
    const row = this.#db.prepare('SELECT * FROM commands WHERE id = ?').get(id) as
      CommandRow | undefined
    return row === undefined ? undefined : toCommand(row)
  }

  /** A device's commands, newest first, before the row id `before`; with the row ids. */
  listForDevice(
    deviceId: string,
    before: number | undefined,
    limit: number,
  ): { rowid: number; command: Command }[] {
    const rows = this.#db
      .prepare(
        `SELECT rowid AS rowid_, * FROM commands WHERE device_id = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?`,
      )
      .all(deviceId, before ?? Number.MAX_SAFE_INTEGER, limit) as (CommandRow & {
      rowid_: number
    })[]
    return rows.map((r) => ({ rowid: r.rowid_, command: toCommand(r) }))
  }

  /** Queued commands not handed to the broker yet, oldest first. */
  unsent(limit: number): Command[] {
    const rows = this.#db
      .prepare(
        "SELECT * FROM commands WHERE sent_at IS NULL AND status = 'queued' ORDER BY rowid LIMIT ?",
      )
      .all(limit) as CommandRow[]
    return rows.map(toCommand)
  }

  /** A device's queued commands that have not expired, oldest first. */
  openFor(deviceId: string, now: number): Command[] {
    const rows = this.#db
      .prepare(
        "SELECT * FROM commands WHERE device_id = ? AND status = 'queued' AND deadline_at > ? ORDER BY rowid",
      )
      .all(deviceId, now) as CommandRow[]
    return rows.map(toCommand)
  }

  /** How many of a device's commands await an answer. */
  openCount(deviceId: string): number {
    return this.#db
      .prepare(
        "SELECT COUNT(*) FROM commands WHERE device_id = ? AND status IN ('queued', 'delivered')",
      )
      .pluck()
      .get(deviceId) as number
  }

  markSent(id: string, now: number): void {
    this.#db
      .prepare('UPDATE commands SET sent_at = ? WHERE id = ? AND sent_at IS NULL')
      .run(now, id)
  }

  /** The device accepted it: delivered, and it now has `timeoutS` for a final answer. */
  markDelivered(id: string, now: number): void {
    this.#db
      .prepare(
        `UPDATE commands SET status = 'delivered', delivered_at = ?, deadline_at = ? + timeout_s * 1000
         WHERE id = ? AND status = 'queued'`,
      )
      .run(now, now, id)
  }

  /** A final answer to an open command. */
  finish(id: string, response: CommandResponse, now: number): void {
    this.#db
      .prepare(
        `UPDATE commands SET status = ?, delivered_at = COALESCE(delivered_at, ?), finished_at = ?,
           result = ?, error = ? WHERE id = ? AND status IN ('queued', 'delivered')`,
      )
      .run(
        response.status,
        now,
        now,
        response.result === undefined ? null : JSON.stringify(response.result),
        response.error === undefined ? null : JSON.stringify(response.error),
        id,
      )
  }

  /** Keeps an answer to an expired command without changing its status. */
  recordLate(id: string, response: CommandResponse, now: number): void {
    this.#db
      .prepare('UPDATE commands SET late_response = ?, late_at = ? WHERE id = ?')
      .run(JSON.stringify(response), now, id)
  }

  /** Expires every open command past its deadline; returns those it expired. */
  expireOverdue(now: number): ExpiredCommand[] {
    const rows = this.#db
      .prepare(
        `UPDATE commands SET status = 'expired', finished_at = ?,
           status_reason = CASE status WHEN 'queued' THEN 'the device did not answer before expiresAt'
             ELSE 'no final answer within timeoutS of the device accepting it' END
         WHERE status IN ('queued', 'delivered') AND deadline_at <= ?
         RETURNING id, tenant_id, device_id, name`,
      )
      .all(now, now) as { id: string; tenant_id: string; device_id: string; name: string }[]
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      deviceId: r.device_id,
      name: r.name,
    }))
  }

  /** Commands of a job by status. */
  countsForJob(jobId: string): Partial<Record<CommandStatus, number>> {
    const rows = this.#db
      .prepare('SELECT status, COUNT(*) AS n FROM commands WHERE job_id = ? GROUP BY status')
      .all(jobId) as { status: CommandStatus; n: number }[]
    return Object.fromEntries(rows.map((r) => [r.status, r.n]))
  }
}

function toCommand(r: CommandRow): Command {
  const late =
    r.late_response === null
      ? null
      : { ...(JSON.parse(r.late_response) as CommandResponse), at: r.late_at ?? 0 }
  return {
    id: r.id,
    tenantId: r.tenant_id,
    deviceId: r.device_id,
    jobId: r.job_id,
    name: r.name,
    params: JSON.parse(r.params) as JsonObject,
    status: r.status,
    statusReason: r.status_reason,
    timeoutS: r.timeout_s,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    deadlineAt: r.deadline_at,
    sentAt: r.sent_at,
    deliveredAt: r.delivered_at,
    finishedAt: r.finished_at,
    result: r.result === null ? null : (JSON.parse(r.result) as JsonObject),
    error: r.error === null ? null : (JSON.parse(r.error) as { code: string; message: string }),
    lateResponse: late,
  }
}
