import { createHash } from 'node:crypto'
import type { StateDb } from '../db/state-db.js'
import { likeFilter } from '../db/like-filter.js'

/** One thing someone did (or tried to do) that changed or guarded something. */
export interface AuditEvent {
  /** The tenant it happened in; null for node-wide events (setup, tenants). */
  readonly tenantId: string | null
  /** Who: `user:<id>`, `token:<id>`, `device:<id>`, `setup`, `system`. */
  readonly actor: string
  /** What, as `area.verb`: `device.create`, `token.revoke`, `mqtt.connect`… */
  readonly action: string
  /** Which: `device:<id>`, `user:<id>`, `token:<id>`… */
  readonly target: string
  /** `ok`, or `denied` / `failed` with the reason in details. */
  readonly outcome: 'ok' | 'denied' | 'failed'
  readonly details?: Readonly<Record<string, unknown>>
}

/** An audit entry as stored: the event, when, its place in the chain, and the chain's hashes. */
export interface AuditEntry extends AuditEvent {
  readonly seq: number
  readonly ts: number
  readonly details: Readonly<Record<string, unknown>>
  readonly prevHash: string
  readonly hash: string
}

/** The outcome of checking the chain end to end. */
export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | {
      readonly ok: false
      readonly entries: number
      readonly brokenAt: number
      readonly problem: string
    }

/**
 * Filters of an audit query; results come newest first, `beforeSeq` pages back. `actor`,
 * `action` and `target` match exactly, or as a prefix when they end in `*` (`token.*`,
 * `device:pump-*`); `q` is text found anywhere in the actor, action, target or details, in any
 * case; `from` (inclusive) and `to` (exclusive) bound the time in epoch milliseconds.
 */
export interface AuditQuery {
  readonly tenantId: string | null
  readonly actor?: string
  readonly action?: string
  readonly target?: string
  readonly outcome?: AuditEvent['outcome']
  readonly q?: string
  readonly from?: number
  readonly to?: number
  readonly beforeSeq?: number
  readonly limit: number
}

const genesis = '0'.repeat(64)

interface Row {
  seq: number
  ts: number
  tenant_id: string | null
  actor: string
  action: string
  target: string
  outcome: AuditEvent['outcome']
  details: string
  prev_hash: string
  hash: string
}

/**
 * The append-only, tamper-evident audit log. Each entry's hash covers its own fields and the hash
 * of the entry before, so editing, removing or reordering any entry breaks every hash after it;
 * the table also refuses UPDATE and DELETE. `verify` walks the chain; the head hash it returns can
 * be kept elsewhere to detect a rewrite of the whole chain.
 */
export class AuditLog {
  readonly #db: StateDb
  readonly #clock: () => number

  constructor(db: StateDb, clock: () => number) {
    this.#db = db
    this.#clock = clock
  }

  /** Appends an event; atomic with the caller's transaction when called inside one. */
  append(event: AuditEvent): AuditEntry {
    const append = this.#db.transaction((): AuditEntry => {
      const last = this.#db
        .prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')
        .get() as { seq: number; hash: string } | undefined
      const seq = (last?.seq ?? 0) + 1
      const prevHash = last?.hash ?? genesis
      const ts = this.#clock()
      const details = event.details ?? {}
      const entry = { ...event, seq, ts, details, prevHash }
      const hash = entryHash(entry)
      this.#db
        .prepare(
          `INSERT INTO audit (seq, ts, tenant_id, actor, action, target, outcome, details, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          seq,
          ts,
          event.tenantId,
          event.actor,
          event.action,
          event.target,
          event.outcome,
          JSON.stringify(details),
          prevHash,
          hash,
        )
      return { ...entry, hash }
    })
    return append()
  }

  /** Entries of a tenant (or node-wide ones with `tenantId: null`), newest first. */
  query(q: AuditQuery): AuditEntry[] {
    const where = ['tenant_id IS ?']
    const args: unknown[] = [q.tenantId]
    for (const [col, v] of [
      ['actor', q.actor],
      ['action', q.action],
      ['target', q.target],
      ['outcome', q.outcome],
    ] as const) {
      if (v === undefined) continue
      if (v.endsWith('*')) {
        // A prefix, compared byte for byte (LIKE would fold case and need escaping).
        const prefix = v.slice(0, -1)
        where.push(`substr(${col}, 1, length(?)) = ?`)
        args.push(prefix, prefix)
      } else {
        where.push(`${col} = ?`)
        args.push(v)
      }
    }
    if (q.q !== undefined && q.q !== '') {
      const text = likeFilter(['actor', 'action', 'target', 'details'], q.q, 'contains')
      where.push(text.sql)
      args.push(...text.args)
    }
    for (const [cond, v] of [
      ['ts >= ?', q.from],
      ['ts < ?', q.to],
      ['seq < ?', q.beforeSeq],
    ] as const) {
      if (v === undefined) continue
      where.push(cond)
      args.push(v)
    }
    const rows = this.#db
      .prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args, q.limit) as Row[]
    return rows.map(toEntry)
  }

  /** Recomputes every hash from the first entry; reports the first entry that does not fit. */
  verify(): AuditVerification {
    let prev = genesis
    let expectedSeq = 1
    let entries = 0
    for (const row of this.#db
      .prepare('SELECT * FROM audit ORDER BY seq')
      .iterate() as Iterable<Row>) {
      const entry = toEntry(row)
      if (entry.seq !== expectedSeq) {
        return {
          ok: false,
          entries,
          brokenAt: expectedSeq,
          problem: `entry ${String(expectedSeq)} is missing`,
        }
      }
      if (entry.prevHash !== prev) {
        return {
          ok: false,
          entries,
          brokenAt: entry.seq,
          problem: 'its previous-hash does not match the entry before',
        }
      }
      if (entryHash(entry) !== entry.hash) {
        return {
          ok: false,
          entries,
          brokenAt: entry.seq,
          problem: 'its content does not match its hash',
        }
      }
      prev = entry.hash
      expectedSeq++
      entries++
    }
    return { ok: true, entries, headHash: prev }
  }
}

/** SHA-256 over the previous hash and the entry's fields in a fixed order. */
function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const canonical = JSON.stringify([
    e.seq,
    e.ts,
    e.tenantId,
    e.actor,
    e.action,
    e.target,
    e.outcome,
    canonicalJson(e.details),
  ])
  return createHash('sha256').update(e.prevHash).update(canonical).digest('hex')
}

/** JSON with object keys sorted, so that a stored entry re-hashes to the same bytes. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value === undefined ? null : value)
}

function toEntry(row: Row): AuditEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    tenantId: row.tenant_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}
