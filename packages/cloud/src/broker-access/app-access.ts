import { parseSharedFilter } from '@strata/protocol'
import {
  reasonCodes,
  type AuthenticateResult,
  type AuthorizeResult,
  type ClientInfo,
  type ConnectContext,
} from '@strata/mqtt'
import { can, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import { DeniedAudit } from './denied-audit.js'
import { parseToken } from '../secrets/token-format.js'
import { ruleOutputPrefix } from './app-topics.js'
import { TokenBuckets } from './token-bucket.js'

/** The identity an application connection carries through the broker's hooks. */
export type AppIdentityAttributes = {
  readonly kind: 'app'
  readonly tenantId: string
  /** The API token's id. */
  readonly tokenId: string
  readonly role: Principal['role']
}

/** The MQTT user name applications connect with (or none, in MQTT 5). */
export const appUsername = 'api'

/** What an application's client id must start with, after which `/` and anything may follow. */
export const appClientIdPrefix = (tokenId: string) => `app/${tokenId}`

/** Options of {@link AppAccess}. */
export interface AppAccessOptions {
  /** Connects per client id: sustained rate and burst. */
  readonly connectRatePerS: number
  readonly connectBurst: number
  /** How often live application sessions are checked against their token (revoked, expired). */
  readonly sweepMs: number
}

export const defaultAppAccessOptions: AppAccessOptions = {
  connectRatePerS: 1,
  connectBurst: 10,
  sweepMs: 1_000,
}

/** A token's life as the secret store knows it. */
export interface AppTokenState {
  readonly expiresAt: number | null
  readonly revokedAt: number | null
}

/** The broker identity id of an API token's connections (`broker.disconnectIdentity` takes it). */
export const appIdentityId = (tokenId: string) => `app:${tokenId}`

/**
 * The broker's hooks for applications: an MQTT client that presents an API token as its password
 * (user name `api`) reads its tenant's rule outputs (`strata/v1/tenants/{tenant}/rules/…`) and
 * nothing else. It may never publish (a will counts as a publish), subscribes at QoS 0 or 1, and
 * needs a role with `telemetry:read`. Its client id is `app/<tokenId>` or starts with
 * `app/<tokenId>/`, so it can never take over a device's or another application's session. When
 * its token is revoked or expires, its connections are cut and its sessions discarded.
 */
export class AppAccess {
  readonly #authenticateToken: (token: string) => Promise<Principal>
  readonly #tokenState: (tokenId: string) => AppTokenState | undefined
  readonly #cut: (identityId: string, reason: string) => void
  readonly #clock: () => number
  readonly #connects: TokenBuckets
  readonly #live = new Map<string, { expiresAt: number | null; connections: number }>()
  readonly #refusals: DeniedAudit
  readonly #sweep: NodeJS.Timeout

  constructor(
    deps: {
      /** The principal an API token stands for (`accounts.authenticate`). */
      authenticate: (token: string) => Promise<Principal>
      /** The token's expiry and revocation (the secret store), read on each sweep. */
      tokenState: (tokenId: string) => AppTokenState | undefined
      /** Cuts every connection of a broker identity and discards its sessions. */
      cut: (identityId: string, reason: string) => void
      audit: AuditLog
      clock: () => number
    },
    options: Partial<AppAccessOptions> = {},
  ) {
    const o = { ...defaultAppAccessOptions, ...options }
    this.#authenticateToken = deps.authenticate
    this.#tokenState = deps.tokenState
    this.#cut = deps.cut
    this.#refusals = new DeniedAudit(deps.audit, deps.clock)
    this.#clock = deps.clock
    this.#connects = new TokenBuckets(o.connectRatePerS, o.connectBurst, deps.clock)
    this.#sweep = setInterval(() => {
      this.#sweepTokens()
    }, o.sweepMs)
    this.#sweep.unref()
  }

  /** True when this connection is an application's: an API token as the password, no certificate. */
  handles(ctx: ConnectContext): boolean {
    if (ctx.tls?.peerCertificate !== undefined || ctx.password === undefined) return false
    return parseToken(Buffer.from(ctx.password).toString('utf8'))?.kind === 'api'
  }

  async authenticate(ctx: ConnectContext): Promise<AuthenticateResult> {
    if (!this.#connects.take(ctx.clientId)) {
      return this.#refuse(ctx, null, reasonCodes.connectionRateExceeded, 'too many connects')
    }
    const token = Buffer.from(ctx.password ?? new Uint8Array()).toString('utf8')
    let principal: Principal
    try {
      principal = await this.#authenticateToken(token)
    } catch {
      return this.#refuse(
        ctx,
        null,
        reasonCodes.badUserNameOrPassword,
        'the API token is not valid, revoked or expired',
      )
    }
    const { tenantId, id: tokenId } = principal
    if (ctx.username !== undefined && ctx.username !== appUsername) {
      return this.#refuse(
        ctx,
        tenantId,
        reasonCodes.badUserNameOrPassword,
        `an application connects with the user name ${appUsername}`,
      )
    }
    if (!can(principal, 'telemetry:read')) {
      return this.#refuse(
        ctx,
        tenantId,
        reasonCodes.notAuthorized,
        `role ${principal.role} may not read telemetry; use a viewer, operator or admin token`,
      )
    }
    const prefix = appClientIdPrefix(tokenId)
    if (ctx.clientId !== '' && ctx.clientId !== prefix && !ctx.clientId.startsWith(`${prefix}/`)) {
      return this.#refuse(
        ctx,
        tenantId,
        reasonCodes.clientIdentifierNotValid,
        `the client id of this application must be ${prefix} or start with ${prefix}/`,
      )
    }
    const attributes: AppIdentityAttributes = {
      kind: 'app',
      tenantId,
      tokenId,
      role: principal.role,
    }
    return {
      ok: true,
      identity: { id: appIdentityId(tokenId), username: appUsername, attributes },
    }
  }

  /** Applications only read: every PUBLISH (and every will) is refused. */
  authorizePublish(client: ClientInfo, topic: string): AuthorizeResult {
    const why = 'applications may only subscribe'
    this.#denied(client, 'mqtt.publish', topic, why)
    return { allowed: false, reason: why }
  }

  /**
   * A filter inside the tenant's rule outputs: the first five levels literal
   * (`strata/v1/tenants/{tenant}/rules/`), wildcards after them; `$share/{group}/` allowed.
   * Granted at QoS 1 at most.
   */
  authorizeSubscribe(client: ClientInfo, filter: string): AuthorizeResult {
    const a = appAttributesOf(client)
    if (a === undefined) return { allowed: false, reason: 'not an application' }
    const shared = parseSharedFilter(filter)
    const inner = shared === undefined || 'error' in shared ? filter : shared.filter
    const prefix = ruleOutputPrefix(a.tenantId)
    if (shared !== undefined && 'error' in shared)
      return this.#refuseFilter(client, filter, shared.error)
    if (!inner.startsWith(prefix) || inner.length === prefix.length) {
      return this.#refuseFilter(
        client,
        filter,
        `an application may subscribe only under ${prefix} (its tenant's rule outputs)`,
      )
    }
    return { allowed: true, maxQos: 1 }
  }

  /** A connection of an application began (the broker's onConnect). */
  connected(client: ClientInfo): void {
    const a = appAttributesOf(client)
    if (a === undefined) return
    const live = this.#live.get(a.tokenId)
    if (live !== undefined) {
      live.connections++
      return
    }
    const state = this.#tokenState(a.tokenId)
    this.#live.set(a.tokenId, { expiresAt: state?.expiresAt ?? null, connections: 1 })
  }

  /** A connection of an application ended (the broker's onDisconnect). */
  disconnected(client: ClientInfo): void {
    const a = appAttributesOf(client)
    if (a === undefined) return
    const live = this.#live.get(a.tokenId)
    if (live === undefined) return
    if (--live.connections <= 0) this.#live.delete(a.tokenId)
  }

  /** An API token was revoked: its connections are cut now. */
  tokenRevoked(tokenId: string): void {
    this.#live.delete(tokenId)
    this.#cut(appIdentityId(tokenId), 'API token revoked')
  }

  /** Stops the sweep. Idempotent. */
  close(): Promise<void> {
    clearInterval(this.#sweep)
    return Promise.resolve()
  }

  #sweepTokens(): void {
    const now = this.#clock()
    for (const [tokenId, live] of [...this.#live]) {
      const expired = live.expiresAt !== null && live.expiresAt <= now
      // Revocation comes through tokenRevoked at once; this read is the safety net.
      const state = expired ? undefined : this.#tokenState(tokenId)
      const revoked = !expired && (state === undefined || state.revokedAt !== null)
      if (!expired && !revoked) continue
      this.#live.delete(tokenId)
      this.#cut(appIdentityId(tokenId), expired ? 'API token expired' : 'API token revoked')
    }
  }

  #refuseFilter(client: ClientInfo, filter: string, why: string): AuthorizeResult {
    this.#denied(client, 'mqtt.subscribe', filter, why)
    return { allowed: false, reason: why }
  }

  #refuse(
    ctx: ConnectContext,
    tenantId: string | null,
    reasonCode: number,
    why: string,
  ): AuthenticateResult {
    const actor = `client:${ctx.clientId}`
    this.#refusals.record(tenantId, actor, 'mqtt.connect', actor, why, {
      remoteAddress: ctx.remoteAddress,
      listener: ctx.listener,
      reasonCode,
    })
    return { ok: false, reasonCode, reason: why }
  }

  #denied(client: ClientInfo, action: string, topic: string, why: string): void {
    const a = appAttributesOf(client)
    const actor = `token:${a?.tokenId ?? client.clientId}`
    this.#refusals.record(
      a?.tenantId ?? null,
      actor,
      action,
      `topic:${topic.slice(0, 512)}`,
      why,
      {},
    )
  }
}

/** The application attributes of a connection; undefined for devices and provisioning clients. */
export function appAttributesOf(client: ClientInfo): AppIdentityAttributes | undefined {
  const a = client.identity.attributes as { kind?: unknown } | undefined
  return a?.kind === 'app' ? (a as AppIdentityAttributes) : undefined
}
