import { hash, verify } from '@node-rs/argon2'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { StateDb } from '../db/state-db.js'
import { CloudError } from '../errors.js'
import { newToken, parseToken, type SecretKind } from './token-format.js'

/** argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1). */
const argon2Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/** A stored secret's record; never holds the secret itself. */
export interface SecretRecord {
  readonly id: string
  readonly kind: SecretKind
  readonly tenantId: string | null
  /** Whom the secret stands for: a user id, a device id, a tenant for claims. */
  readonly subject: string
  readonly name: string
  readonly role: string | null
  readonly createdBy: string | null
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
  readonly maxUses: number | null
  readonly uses: number
  readonly scope: Readonly<Record<string, unknown>>
}

/** What a new secret is: everything but the generated id and hash. */
export interface NewSecret {
  readonly kind: SecretKind
  readonly tenantId: string | null
  readonly subject: string
  readonly name?: string
  readonly role?: string
  readonly createdBy?: string
  readonly expiresAt?: number
  readonly maxUses?: number
  readonly scope?: Readonly<Record<string, unknown>>
}

interface Row {
  id: string
  kind: SecretKind
  tenant_id: string | null
  subject: string
  name: string
  role: string | null
  secret_hash: string
  created_by: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
  max_uses: number | null
  uses: number
  scope: string
}

/** Failed guesses per secret id before it is locked for `lockMs`. */
const maxFailures = 10
const lockMs = 60_000
/** How many verified secrets are remembered (by a SHA-256 of the secret, in memory only). */
const verifiedCacheSize = 20_000

/**
 * Random secrets (tokens) stored as argon2id hashes: created and shown once, verified, revoked.
 * argon2id costs ~20 ms per check, so a secret that verified once is remembered in memory by a
 * SHA-256 of it (never on disk), and an id that keeps failing is locked for a minute: a flood of
 * wrong guesses costs the node little and the attacker a lot.
 */
export class SecretStore {
  readonly #db: StateDb
  readonly #clock: () => number
  readonly #verified = new Map<string, Buffer>()
  readonly #failures = new Map<string, { count: number; until: number }>()

  constructor(db: StateDb, clock: () => number) {
    this.#db = db
    this.#clock = clock
  }

  /** Creates a secret and returns its token: the only time the token exists outside the holder. */
  async create(spec: NewSecret): Promise<{ readonly id: string; readonly token: string }> {
    const { id, secret, token } = newToken(spec.kind)
    const secretHash = await hash(secret, argon2Options)
    this.#db
      .prepare(
        `INSERT INTO secrets (id, kind, tenant_id, subject, name, role, secret_hash, created_by,
           created_at, expires_at, max_uses, scope)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        spec.kind,
        spec.tenantId,
        spec.subject,
        spec.name ?? '',
        spec.role ?? null,
        secretHash,
        spec.createdBy ?? null,
        this.#clock(),
        spec.expiresAt ?? null,
        spec.maxUses ?? null,
        JSON.stringify(spec.scope ?? {}),
      )
    return { id, token }
  }

  /**
   * The record a token stands for when it is of `kind`, matches its hash, and is neither revoked,
   * expired nor used up; otherwise a `CLOUD_UNAUTHENTICATED` (or `CLOUD_RATE_LIMITED`) error that
   * does not say which check failed.
   */
  async verify(token: string, kind: SecretKind): Promise<SecretRecord> {
    const parsed = parseToken(token)
    if (parsed?.kind !== kind) throw unauthenticated(kind)
    const now = this.#clock()
    const failed = this.#failures.get(parsed.id)
    if (failed !== undefined && failed.count >= maxFailures && failed.until > now) {
      throw new CloudError(
        'CLOUD_RATE_LIMITED',
        `too many failed attempts for ${kind} token ${parsed.id}`,
        {
          hint: `Wait ${String(Math.ceil((failed.until - now) / 1000))} s; check the token is current.`,
          retryable: true,
        },
      )
    }
    const row = this.#row(parsed.id)
    if (row?.kind !== kind) throw unauthenticated(kind)
    const digest = createHash('sha256').update(parsed.secret).digest()
    const known = this.#verified.get(parsed.id)
    const matches =
      known !== undefined
        ? timingSafeEqual(known, digest)
        : await verify(row.secret_hash, parsed.secret).catch(() => false)
    if (!matches) {
      const f = this.#failures.get(parsed.id)
      const count = f !== undefined && f.until > now ? f.count + 1 : 1
      this.#failures.set(parsed.id, { count, until: now + lockMs })
      throw unauthenticated(kind)
    }
    this.#failures.delete(parsed.id)
    if (known === undefined) this.#remember(parsed.id, digest)
    const record = toRecord(row)
    if (!isUsable(record, now)) throw unauthenticated(kind)
    if (record.lastUsedAt === null || now - record.lastUsedAt > 60_000) {
      this.#db.prepare('UPDATE secrets SET last_used_at = ? WHERE id = ?').run(now, record.id)
    }
    return record
  }

  /** Counts one use of a limited secret (a claim); false when none is left. Atomic. */
  consumeUse(id: string): boolean {
    const r = this.#db
      .prepare(
        'UPDATE secrets SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)',
      )
      .run(id)
    return r.changes === 1
  }

  get(id: string): SecretRecord | undefined {
    const row = this.#row(id)
    return row === undefined ? undefined : toRecord(row)
  }

  /** Secrets of a kind in a tenant (optionally of one subject), newest first. */
  list(kind: SecretKind, tenantId: string | null, subject?: string): SecretRecord[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM secrets WHERE kind = ? AND tenant_id IS ? ${subject === undefined ? '' : 'AND subject = ?'}
         ORDER BY created_at DESC, id`,
      )
      .all(...(subject === undefined ? [kind, tenantId] : [kind, tenantId, subject])) as Row[]
    return rows.map(toRecord)
  }

  /** Revokes a secret now; true when it was live. */
  revoke(id: string): boolean {
    this.#verified.delete(id)
    return (
      this.#db
        .prepare('UPDATE secrets SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(this.#clock(), id).changes === 1
    )
  }

  /** Revokes every live secret of a kind held by a subject (a device's tokens, a user's sessions). */
  revokeAll(kind: SecretKind, subject: string): number {
    const ids = this.#db
      .prepare('SELECT id FROM secrets WHERE kind = ? AND subject = ? AND revoked_at IS NULL')
      .pluck()
      .all(kind, subject) as string[]
    for (const id of ids) this.revoke(id)
    return ids.length
  }

  #row(id: string): Row | undefined {
    return this.#db.prepare('SELECT * FROM secrets WHERE id = ?').get(id) as Row | undefined
  }

  #remember(id: string, digest: Buffer): void {
    if (this.#verified.size >= verifiedCacheSize) {
      const oldest = this.#verified.keys().next().value
      if (oldest !== undefined) this.#verified.delete(oldest)
    }
    this.#verified.set(id, digest)
  }
}

/** Live: not revoked, not expired, uses left. */
function isUsable(record: SecretRecord, now: number): boolean {
  return (
    record.revokedAt === null &&
    (record.expiresAt === null || record.expiresAt > now) &&
    (record.maxUses === null || record.uses < record.maxUses)
  )
}

function unauthenticated(kind: SecretKind): CloudError {
  return new CloudError('CLOUD_UNAUTHENTICATED', `the ${kind} token is not valid`, {
    hint: 'Check the token is complete and current; a revoked or expired token needs a new one.',
  })
}

function toRecord(row: Row): SecretRecord {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    subject: row.subject,
    name: row.name,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    maxUses: row.max_uses,
    uses: row.uses,
    scope: JSON.parse(row.scope) as Record<string, unknown>,
  }
}
