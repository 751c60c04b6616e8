import { authorizePublish, authorizeSubscribe, type TopicIdentity } from '@strata/protocol'
import {
  reasonCodes,
  type AuthenticateResult,
  type AuthorizeResult,
  type ClientInfo,
  type ConnectContext,
} from '@strata/mqtt'
import type { PeerCertificate } from 'node:tls'
import type { AuditLog } from '../audit/audit-log.js'
import { DeniedAudit } from './denied-audit.js'
import { isStrataError } from '@strata/protocol'
import type { SecretStore } from '../secrets/secret-store.js'
import { parseToken } from '../secrets/token-format.js'
import { mayConnect } from '../registry/device-lifecycle.js'
import type { DeviceRegistry } from '../registry/device-registry.js'
import type { CertificateLedger } from '../registry/certificate-ledger.js'
import { TokenBuckets } from './token-bucket.js'

/** The identity a device connection carries through the broker's hooks. */
export type DeviceIdentityAttributes = {
  readonly kind: 'device' | 'provisioning'
  readonly tenantId: string
  readonly deviceId?: string
  /** For provisioning clients: the claim token's id. */
  readonly claimId?: string
  readonly via: 'token' | 'certificate' | 'claim'
}

/** What a client certificate says, as read by the identity module. */
export interface PresentedCertificate {
  readonly tenantId: string
  readonly deviceId: string
  readonly serialNumber: string
}

export interface DeviceAccessOptions {
  /** Connects per client id: sustained rate and burst (default 1/s, burst 10). */
  readonly connectRatePerS: number
  readonly connectBurst: number
}

export const defaultDeviceAccessOptions: DeviceAccessOptions = {
  connectRatePerS: 1,
  connectBurst: 10,
}

/**
 * The broker's authentication and authorisation hooks for devices: a device proves its key with a
 * client certificate from Strata's CA (mutual TLS) or with its token as the MQTT password; a
 * provisioning client with a claim token. Every device stays inside its own namespace whatever
 * filters it sends (`authorizePublish`/`authorizeSubscribe` of the protocol). Refusals are audited.
 */
export class DeviceAccess {
  readonly #registry: DeviceRegistry
  readonly #secrets: SecretStore
  readonly #certificates: CertificateLedger
  readonly #readCertificate: (peer: PeerCertificate) => PresentedCertificate | undefined
  readonly #connects: TokenBuckets
  readonly #refusals: DeniedAudit

  constructor(
    deps: {
      registry: DeviceRegistry
      secrets: SecretStore
      certificates: CertificateLedger
      audit: AuditLog
      clock: () => number
      readCertificate: (peer: PeerCertificate) => PresentedCertificate | undefined
    },
    options: DeviceAccessOptions = defaultDeviceAccessOptions,
  ) {
    this.#registry = deps.registry
    this.#secrets = deps.secrets
    this.#certificates = deps.certificates
    this.#refusals = new DeniedAudit(deps.audit, deps.clock)
    this.#readCertificate = deps.readCertificate
    this.#connects = new TokenBuckets(options.connectRatePerS, options.connectBurst, deps.clock)
  }

  async authenticate(ctx: ConnectContext): Promise<AuthenticateResult> {
    if (!this.#connects.take(ctx.clientId)) {
      return this.#refuse(
        ctx,
        null,
        reasonCodes.connectionRateExceeded,
        'too many connects for this client id',
      )
    }
    if (ctx.tls?.peerCertificate !== undefined)
      return this.#byCertificate(ctx, ctx.tls.peerCertificate, ctx.tls.authorized)
    const password = ctx.password === undefined ? '' : Buffer.from(ctx.password).toString('utf8')
    const kind = parseToken(password)?.kind
    if (kind === 'claim') return this.#byClaim(ctx, password)
    if (kind === 'device') return this.#byToken(ctx, password)
    return this.#refuse(
      ctx,
      null,
      reasonCodes.badUserNameOrPassword,
      'no client certificate and no device or claim token',
    )
  }

  authorizePublish(client: ClientInfo, topic: string): AuthorizeResult {
    const decision = authorizePublish(topicIdentity(client), topic)
    if (decision.allowed) return { allowed: true }
    this.#denied(client, 'mqtt.publish', topic, decision.reason)
    return { allowed: false, reason: decision.reason }
  }

  authorizeSubscribe(client: ClientInfo, filter: string): AuthorizeResult {
    const decision = authorizeSubscribe(topicIdentity(client), filter)
    if (decision.allowed) return { allowed: true }
    this.#denied(client, 'mqtt.subscribe', filter, decision.reason)
    return { allowed: false, reason: decision.reason }
  }

  #byCertificate(
    ctx: ConnectContext,
    peer: PeerCertificate,
    authorized: boolean,
  ): AuthenticateResult {
    const presented = authorized ? this.#readCertificate(peer) : undefined
    if (presented === undefined) {
      return this.#refuse(
        ctx,
        null,
        reasonCodes.badUserNameOrPassword,
        'the client certificate is not one Strata issued to a device',
      )
    }
    const cert = this.#certificates.get(presented.serialNumber)
    if (cert === undefined || cert.deviceId !== presented.deviceId || cert.revokedAt !== null) {
      return this.#refuse(
        ctx,
        presented.tenantId,
        reasonCodes.notAuthorized,
        `certificate ${presented.serialNumber} is revoked or unknown`,
      )
    }
    return this.#admitDevice(ctx, presented.deviceId, presented.tenantId, 'certificate')
  }

  async #byToken(ctx: ConnectContext, password: string): Promise<AuthenticateResult> {
    let subject: string
    try {
      subject = (await this.#secrets.verify(password, 'device')).subject
    } catch (err) {
      const code =
        isStrataError(err) && err.code === 'CLOUD_RATE_LIMITED'
          ? reasonCodes.connectionRateExceeded
          : reasonCodes.badUserNameOrPassword
      return this.#refuse(ctx, null, code, 'the device token is not valid')
    }
    if (ctx.username !== undefined && ctx.username !== subject) {
      return this.#refuse(
        ctx,
        null,
        reasonCodes.badUserNameOrPassword,
        'the user name is not the device id of the token',
      )
    }
    const device = this.#registry.lookup(subject)
    return this.#admitDevice(ctx, subject, device?.tenantId ?? null, 'token')
  }

  async #byClaim(ctx: ConnectContext, password: string): Promise<AuthenticateResult> {
    try {
      const claim = await this.#secrets.verify(password, 'claim')
      if (claim.tenantId === null) throw new Error('claim without a tenant')
      const identity: DeviceIdentityAttributes = {
        kind: 'provisioning',
        tenantId: claim.tenantId,
        claimId: claim.id,
        via: 'claim',
      }
      return { ok: true, identity: { id: `provisioning:${ctx.clientId}`, attributes: identity } }
    } catch {
      return this.#refuse(
        ctx,
        null,
        reasonCodes.badUserNameOrPassword,
        'the claim token is not valid, expired or used up',
      )
    }
  }

  #admitDevice(
    ctx: ConnectContext,
    deviceId: string,
    tenantId: string | null,
    via: 'token' | 'certificate',
  ): AuthenticateResult {
    const device = this.#registry.lookup(deviceId)
    if (device === undefined || (tenantId !== null && device.tenantId !== tenantId)) {
      return this.#refuse(ctx, tenantId, reasonCodes.notAuthorized, `no device ${deviceId}`)
    }
    if (!mayConnect(device.state)) {
      return this.#refuse(
        ctx,
        device.tenantId,
        reasonCodes.notAuthorized,
        `device ${deviceId} is ${device.state}`,
      )
    }
    if (ctx.clientId !== deviceId) {
      return this.#refuse(
        ctx,
        device.tenantId,
        reasonCodes.clientIdentifierNotValid,
        `the client id must be the device id ${deviceId}`,
      )
    }
    const identity: DeviceIdentityAttributes = {
      kind: 'device',
      tenantId: device.tenantId,
      deviceId,
      via,
    }
    return { ok: true, identity: { id: deviceId, username: deviceId, attributes: identity } }
  }

  #refuse(
    ctx: ConnectContext,
    tenantId: string | null,
    reasonCode: number,
    why: string,
  ): AuthenticateResult {
    // A refusal for a client id that names a device goes to that device's tenant: its admins see
    // who tries to be their device.
    this.#refusals.record(
      tenantId ?? this.#registry.lookup(ctx.clientId)?.tenantId ?? null,
      `client:${ctx.clientId}`,
      'mqtt.connect',
      `client:${ctx.clientId}`,
      why,
      { remoteAddress: ctx.remoteAddress, listener: ctx.listener, reasonCode },
    )
    return { ok: false, reasonCode, reason: why }
  }

  #denied(client: ClientInfo, action: string, topic: string, why: string): void {
    const a = attributesOf(client)
    this.#refusals.record(
      a?.tenantId ?? null,
      `device:${a?.deviceId ?? client.clientId}`,
      action,
      `topic:${topic.slice(0, 512)}`,
      why,
      {},
    )
  }
}

/** The identity attributes the hooks above attached to a connection. */
export function attributesOf(client: ClientInfo): DeviceIdentityAttributes | undefined {
  return client.identity.attributes as DeviceIdentityAttributes | undefined
}

function topicIdentity(client: ClientInfo): TopicIdentity {
  const a = attributesOf(client)
  if (a?.kind === 'device' && a.deviceId !== undefined)
    return { kind: 'device', deviceId: a.deviceId }
  return { kind: 'provisioning', clientId: client.clientId }
}
