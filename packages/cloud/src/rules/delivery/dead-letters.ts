import { decoder } from '@strata/protocol'
import type Database from 'better-sqlite3'
import type { DeliveryErrorRecord } from './delivery-failure.js'
import { DeliveryTarget } from './delivery-target.js'
import type { DeadLetterRow } from './outbox-store.js'
import { redactTarget, targetLabelOf } from './target-identity.js'

/** A message the outbox gave up on, with why. */
export interface DeadLetter {
  /** Position in the dead letters; pass it as `after` to read the next page. */
  readonly seq: number
  /** The message's delivery id. */
  readonly id: string
  /** The target with its secrets redacted; undefined if the stored target is unreadable. */
  readonly target: DeliveryTarget | undefined
  /** The target in words, safe to show (no secret, password, token or query). */
  readonly targetLabel: string
  /** The message as queued. */
  readonly message: unknown
  /** When it was queued (epoch ms). */
  readonly createdAt: number
  /** When it was given up on (epoch ms). */
  readonly deadAt: number
  readonly attempts: number
  /** The last attempt's failure (`CLOUD_DELIVERY_FAILED`, an HTTP status…). */
  readonly lastError: DeliveryErrorRecord
}

export interface DeadLetterQuery {
  /** Only those after this `seq` (paging). */
  readonly after?: number
  /** At most this many (default 100, at most 1,000). */
  readonly limit?: number
}

const decodeTarget = decoder(DeliveryTarget)
const decodeError = (text: string): DeliveryErrorRecord => {
  try {
    const value = JSON.parse(text) as Partial<DeliveryErrorRecord> | null
    return {
      code: typeof value?.code === 'string' ? value.code : 'CLOUD_DELIVERY_FAILED',
      message: typeof value?.message === 'string' ? value.message : '',
      ...(typeof value?.status === 'number' ? { status: value.status } : {}),
    }
  } catch {
    return { code: 'CLOUD_DELIVERY_FAILED', message: text }
  }
}

/** Dead letters in the order they died, oldest first. */
export function listDeadLetters(db: Database.Database, query: DeadLetterQuery = {}): DeadLetter[] {
  const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 100)), 1_000)
  const rows = db
    .prepare(`SELECT * FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?`)
    .all(query.after ?? 0, limit) as DeadLetterRow[]
  return rows.map((row) => {
    let target: DeliveryTarget | undefined
    try {
      target = decodeTarget(JSON.parse(row.target))
    } catch {
      target = undefined
    }
    let message: unknown
    try {
      message = JSON.parse(row.body)
    } catch {
      message = row.body
    }
    return {
      seq: row.seq,
      id: row.id,
      target: target === undefined ? undefined : redactTarget(target),
      targetLabel: target === undefined ? '(unreadable target)' : targetLabelOf(target),
      message,
      createdAt: row.created_at,
      deadAt: row.dead_at,
      attempts: row.attempts,
      lastError: decodeError(row.last_error),
    }
  })
}

/** Deletes dead letters that died before `before` (epoch ms), or all; returns how many. */
export function purgeDeadLetters(db: Database.Database, before?: number): number {
  return before === undefined
    ? db.prepare(`DELETE FROM dead_letters`).run().changes
    : db.prepare(`DELETE FROM dead_letters WHERE dead_at < ?`).run(before).changes
}
