import type { AuditLog } from '../audit/audit-log.js'
import { notFound } from '../errors.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { isRole, requireGrantable, requirePermission, type Principal, type Role } from './roles.js'

/** An API token as listed: never its secret. */
export interface ApiToken {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly role: Role
  readonly createdBy: string | null
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

/** API tokens of a tenant: created (shown once), listed (never their secrets), revoked. */
export class ApiTokens {
  readonly #secrets: SecretStore
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #onRevoked: (id: string) => void

  constructor(deps: {
    secrets: SecretStore
    audit: AuditLog
    clock: () => number
    /** Told after a token is revoked, so the node cuts what it holds open (MQTT sessions). */
    onRevoked?: (id: string) => void
  }) {
    this.#secrets = deps.secrets
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#onRevoked = deps.onRevoked ?? (() => undefined)
  }

  /** Creates an API token, shown once. */
  async create(
    principal: Principal,
    input: { name: string; role: Role; expiresInDays?: number },
  ): Promise<{ token: string; apiToken: ApiToken }> {
    requirePermission(principal, 'tokens:manage')
    requireGrantable(principal, input.role)
    const expiresAt =
      input.expiresInDays === undefined
        ? undefined
        : this.#clock() + input.expiresInDays * 86_400_000
    const { id, token } = await this.#secrets.create({
      kind: 'api',
      tenantId: principal.tenantId,
      subject: principal.tenantId,
      name: input.name,
      role: input.role,
      createdBy: principal.actor,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    })
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'token.create',
      target: `token:${id}`,
      outcome: 'ok',
      details: { name: input.name, role: input.role, expiresAt: expiresAt ?? null },
    })
    return { token, apiToken: this.#apiToken(id) as ApiToken }
  }

  list(principal: Principal): ApiToken[] {
    requirePermission(principal, 'tokens:manage')
    return this.#secrets
      .list('api', principal.tenantId)
      .map((s) => this.#apiToken(s.id) as ApiToken)
  }

  revoke(principal: Principal, id: string): ApiToken {
    requirePermission(principal, 'tokens:manage')
    const token = this.#apiToken(id)
    if (token?.tenantId !== principal.tenantId) throw notFound('API token', id)
    this.#secrets.revoke(id)
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'token.revoke',
      target: `token:${id}`,
      outcome: 'ok',
    })
    this.#onRevoked(id)
    return this.#apiToken(id) as ApiToken
  }

  #apiToken(id: string): ApiToken | undefined {
    const s = this.#secrets.get(id)
    if (s?.kind !== 'api' || s.tenantId === null || !isRole(s.role)) return undefined
    return {
      id: s.id,
      tenantId: s.tenantId,
      name: s.name,
      role: s.role,
      createdBy: s.createdBy,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      revokedAt: s.revokedAt,
      lastUsedAt: s.lastUsedAt,
    }
  }
}
