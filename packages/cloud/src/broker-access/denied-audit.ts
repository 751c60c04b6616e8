import type { AuditLog } from '../audit/audit-log.js'

/** Denials of one kind per client are audited at most this often, so a loop cannot flood the log. */
const intervalMs = 10_000
/** Actor/action pairs remembered at most; beyond it the memory starts over. */
const maxTracked = 50_000

/**
 * The broker's refusals (a connect, a publish, a subscribe) in the audit log, at most one entry
 * per actor and action every 10 s: devices and applications alike.
 */
export class DeniedAudit {
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #last = new Map<string, number>()

  constructor(audit: AuditLog, clock: () => number) {
    this.#audit = audit
    this.#clock = clock
  }

  record(
    tenantId: string | null,
    actor: string,
    action: string,
    target: string,
    why: string,
    details: Record<string, unknown> = {},
  ): void {
    const key = `${actor}\u001f${action}`
    const now = this.#clock()
    const last = this.#last.get(key)
    if (last !== undefined && now - last < intervalMs) return
    if (this.#last.size > maxTracked) this.#last.clear()
    this.#last.set(key, now)
    this.#audit.append({
      tenantId,
      actor,
      action,
      target,
      outcome: 'denied',
      details: { reason: why, ...details },
    })
  }
}
