import type { AuditLog } from '../audit/audit-log.js'
import { requirePermission, type Principal } from '../accounts/roles.js'
import { notFound } from '../errors.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { nextDeviceState } from './device-lifecycle.js'
import type { DeviceRegistry } from './device-registry.js'

/** A device token as listed: never its secret. */
export interface DeviceToken {
  readonly id: string
  readonly deviceId: string
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

/**
 * Device tokens: the MQTT password of a device, issued (shown once), listed (never their secrets)
 * and revoked; revoking one drops the sessions it opened at once.
 */
export class DeviceTokens {
  readonly #registry: DeviceRegistry
  readonly #secrets: SecretStore
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #onAccessCut: (deviceId: string, reason: string) => void

  constructor(deps: {
    registry: DeviceRegistry
    secrets: SecretStore
    audit: AuditLog
    clock: () => number
    onAccessCut: (deviceId: string, reason: string) => void
  }) {
    this.#registry = deps.registry
    this.#secrets = deps.secrets
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#onAccessCut = deps.onAccessCut
  }

  /** Issues a device token (the MQTT password), shown once. */
  async create(
    principal: Principal,
    id: string,
    input: { expiresInDays?: number } = {},
  ): Promise<{ token: string; deviceToken: DeviceToken }> {
    requirePermission(principal, 'devices:credentials')
    const device = this.#registry.get(principal, id)
    if (device.state === 'revoked') nextDeviceState(device.state, 'enable', id)
    const expiresAt =
      input.expiresInDays === undefined
        ? undefined
        : this.#clock() + input.expiresInDays * 86_400_000
    const created = await this.#secrets.create({
      kind: 'device',
      tenantId: principal.tenantId,
      subject: id,
      createdBy: principal.actor,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    })
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'device.token.create',
      target: `device:${id}`,
      outcome: 'ok',
      details: { token: created.id, expiresAt: expiresAt ?? null },
    })
    return { token: created.token, deviceToken: this.#token(created.id) as DeviceToken }
  }

  list(principal: Principal, id: string): DeviceToken[] {
    requirePermission(principal, 'devices:read')
    this.#registry.get(principal, id)
    return this.#secrets
      .list('device', principal.tenantId, id)
      .map((s) => this.#token(s.id) as DeviceToken)
  }

  /** Revokes one device token and drops sessions it opened. */
  revoke(principal: Principal, id: string, tokenId: string): DeviceToken {
    requirePermission(principal, 'devices:credentials')
    this.#registry.get(principal, id)
    const token = this.#token(tokenId)
    if (token?.deviceId !== id) throw notFound('device token', tokenId)
    this.#secrets.revoke(tokenId)
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'device.token.revoke',
      target: `device:${id}`,
      outcome: 'ok',
      details: { token: tokenId },
    })
    this.#onAccessCut(id, 'token revoked')
    return this.#token(tokenId) as DeviceToken
  }

  #token(id: string): DeviceToken | undefined {
    const s = this.#secrets.get(id)
    if (s?.kind !== 'device') return undefined
    return {
      id: s.id,
      deviceId: s.subject,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      revokedAt: s.revokedAt,
      lastUsedAt: s.lastUsedAt,
    }
  }
}
