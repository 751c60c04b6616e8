import type { ProvisioningRequest } from '@strata/protocol'
import type { CertificateAuthority } from '../identity/index.js'
import { requirePermission, type Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import { CloudError, notFound } from '../errors.js'
import type { CertificateLedger, IssuedCertificate } from '../registry/certificate-ledger.js'
import { mayConnect } from '../registry/device-lifecycle.js'
import type { DeviceRegistry } from '../registry/device-registry.js'
import { checkLabels, type Labels } from '../registry/label-query.js'
import type { SecretStore, SecretRecord } from '../secrets/secret-store.js'

/** A certificate as the API returns it right after issuing: with its PEM and the CA chain. */
export interface IssuedForDevice {
  readonly certificate: IssuedCertificate
  readonly certificatePem: string
  readonly caChain: string[]
}

/** A claim token as listed: never its secret. */
export interface Claim {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly labels: Labels
  readonly maxUses: number
  readonly uses: number
  readonly createdAt: number
  readonly expiresAt: number
  readonly revokedAt: number | null
}

export interface NewClaim {
  readonly name: string
  /** How many devices may provision with it (default 1). */
  readonly maxUses?: number
  /** Lifetime in hours (default 24, at most 90 days). */
  readonly expiresInHours?: number
  /** Labels every device provisioned with it gets. */
  readonly labels?: Labels
}

/**
 * Device certificates and claim-based provisioning. A certificate is issued only for a CSR whose
 * signature proves the device holds the key (the key never leaves the device), always names the
 * device the CA decides, and is recorded in the ledger, so revoking it refuses the next connect and
 * cuts the live session at once. A claim token lets a device made in bulk become a device of one
 * tenant by itself: limited uses, expiring, revocable.
 */
export class DeviceCertificates {
  readonly #ca: CertificateAuthority
  readonly #ledger: CertificateLedger
  readonly #registry: DeviceRegistry
  readonly #secrets: SecretStore
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #onAccessCut: (deviceId: string, reason: string) => void

  constructor(deps: {
    ca: CertificateAuthority
    ledger: CertificateLedger
    registry: DeviceRegistry
    secrets: SecretStore
    audit: AuditLog
    clock: () => number
    onAccessCut: (deviceId: string, reason: string) => void
  }) {
    this.#ca = deps.ca
    this.#ledger = deps.ledger
    this.#registry = deps.registry
    this.#secrets = deps.secrets
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#onAccessCut = deps.onAccessCut
  }

  /** The CA chain devices must trust (intermediate, root). */
  caChainPem(): string {
    return this.#ca.caChainPem()
  }

  /** Issues a certificate for a device from its CSR; also how a device rotates before expiry. */
  async issue(
    principal: Principal,
    deviceId: string,
    csrPem: string,
    validityDays?: number,
  ): Promise<IssuedForDevice> {
    requirePermission(principal, 'devices:credentials')
    const device = this.#registry.get(principal, deviceId)
    if (device.state === 'revoked') {
      throw new CloudError('CLOUD_CONFLICT', `device ${deviceId} is revoked`, {
        hint: 'A revoked device is final; create a new device.',
      })
    }
    return this.#issue(principal.actor, device.tenantId, deviceId, csrPem, validityDays)
  }

  /**
   * A connected device renews its own certificate (MQTT `certificate/request`): same device, new
   * certificate; the old one stays valid until it expires or is revoked.
   */
  async renew(deviceId: string, csrPem: string): Promise<IssuedForDevice> {
    const device = this.#registry.lookup(deviceId)
    if (device === undefined || !mayConnect(device.state)) {
      throw new CloudError('CLOUD_FORBIDDEN', `device ${deviceId} may not renew its certificate`, {
        hint: 'A disabled, pending or revoked device gets no certificate.',
      })
    }
    return this.#issue(`device:${deviceId}`, device.tenantId, deviceId, csrPem, undefined)
  }

  list(principal: Principal, deviceId: string): IssuedCertificate[] {
    this.#registry.get(principal, deviceId)
    return this.#ledger.forDevice(deviceId)
  }

  /** Revokes a certificate: the next connect with it is refused and the live session is cut now. */
  revoke(
    principal: Principal,
    deviceId: string,
    serialNumber: string,
    reason: string,
  ): IssuedCertificate {
    requirePermission(principal, 'devices:credentials')
    this.#registry.get(principal, deviceId)
    const cert = this.#ledger.get(serialNumber)
    if (cert?.deviceId !== deviceId) throw notFound('certificate', serialNumber)
    this.#ledger.revoke(serialNumber, reason || 'revoked')
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'device.certificate.revoke',
      target: `device:${deviceId}`,
      outcome: 'ok',
      details: { serialNumber, reason },
    })
    this.#onAccessCut(deviceId, 'certificate revoked')
    return this.#ledger.get(serialNumber) as IssuedCertificate
  }

  async createClaim(
    principal: Principal,
    input: NewClaim,
  ): Promise<{ token: string; claim: Claim }> {
    requirePermission(principal, 'devices:credentials')
    checkLabels(input.labels ?? {})
    const maxUses = input.maxUses ?? 1
    const hours = input.expiresInHours ?? 24
    if (
      !Number.isInteger(maxUses) ||
      maxUses < 1 ||
      maxUses > 1_000_000 ||
      !(hours > 0 && hours <= 90 * 24)
    ) {
      throw new CloudError(
        'CLOUD_INVALID',
        'a claim has 1–1,000,000 uses and lives at most 90 days',
        { details: { field: 'maxUses' } },
      )
    }
    const { id, token } = await this.#secrets.create({
      kind: 'claim',
      tenantId: principal.tenantId,
      subject: principal.tenantId,
      name: input.name,
      createdBy: principal.actor,
      maxUses,
      expiresAt: this.#clock() + Math.round(hours * 3_600_000),
      scope: { labels: input.labels ?? {} },
    })
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'claim.create',
      target: `claim:${id}`,
      outcome: 'ok',
      details: { name: input.name, maxUses, hours },
    })
    return { token, claim: toClaim(this.#secrets.get(id) as SecretRecord) }
  }

  listClaims(principal: Principal): Claim[] {
    requirePermission(principal, 'devices:credentials')
    return this.#secrets.list('claim', principal.tenantId).map(toClaim)
  }

  revokeClaim(principal: Principal, id: string): Claim {
    requirePermission(principal, 'devices:credentials')
    const claim = this.#secrets.get(id)
    if (claim?.kind !== 'claim' || claim.tenantId !== principal.tenantId)
      throw notFound('claim', id)
    this.#secrets.revoke(id)
    this.#audit.append({
      tenantId: principal.tenantId,
      actor: principal.actor,
      action: 'claim.revoke',
      target: `claim:${id}`,
      outcome: 'ok',
    })
    return toClaim(this.#secrets.get(id) as SecretRecord)
  }

  /**
   * Provisions a device with a claim: uses one of the claim's uses, registers the device (id =
   * `deviceId`, the client id it connected with), and issues its certificate from the CSR. A
   * failure after the use was taken still counts the use: a claim cannot be probed for free.
   */
  async provision(
    claimId: string,
    deviceId: string,
    request: ProvisioningRequest,
  ): Promise<IssuedForDevice & { deviceId: string }> {
    const claim = this.#secrets.get(claimId)
    if (claim?.kind !== 'claim' || claim.tenantId === null)
      throw new CloudError('CLOUD_UNAUTHENTICATED', 'the claim token is not valid')
    const actor = `claim:${claimId}`
    if (
      !this.#secrets.consumeUse(claimId) ||
      claim.revokedAt !== null ||
      (claim.expiresAt !== null && claim.expiresAt <= this.#clock())
    ) {
      this.#audit.append({
        tenantId: claim.tenantId,
        actor,
        action: 'device.provision',
        target: `device:${deviceId}`,
        outcome: 'denied',
        details: { reason: 'claim used up, expired or revoked' },
      })
      throw new CloudError(
        'CLOUD_UNAUTHENTICATED',
        'the claim token is used up, expired or revoked',
        { hint: 'Ask for a new claim token.' },
      )
    }
    const principal: Principal = {
      kind: 'token',
      id: claimId,
      tenantId: claim.tenantId,
      role: 'provisioner',
      platformAdmin: false,
      actor,
    }
    const labels = (claim.scope['labels'] ?? {}) as Labels
    try {
      const issued = await this.#issue(
        actor,
        claim.tenantId,
        deviceId,
        request.csr,
        undefined,
        () => {
          this.#registry.create(principal, {
            id: deviceId,
            labels,
            attributes: {
              ...(request.attributes ?? {}),
              ...(request.serial === undefined ? {} : { serial: request.serial }),
            },
          })
        },
      )
      return { ...issued, deviceId }
    } catch (err) {
      this.#audit.append({
        tenantId: claim.tenantId,
        actor,
        action: 'device.provision',
        target: `device:${deviceId}`,
        outcome: 'failed',
        details: { reason: err instanceof Error ? err.message : String(err) },
      })
      throw err
    }
  }

  async #issue(
    actor: string,
    tenantId: string,
    deviceId: string,
    csrPem: string,
    validityDays: number | undefined,
    beforeRecord: () => void = () => undefined,
  ): Promise<IssuedForDevice> {
    // Signing checks the CSR first, so a bad CSR registers nothing; a certificate signed but never
    // recorded (the device could not be registered) is refused at connect like any unknown one.
    const issued = await this.#ca.issueDeviceCertificate({
      csrPem,
      tenantId,
      deviceId,
      ...(validityDays === undefined ? {} : { validityDays }),
    })
    beforeRecord()
    const certificate = this.#ledger.record({
      serialNumber: issued.serialNumber,
      tenantId,
      deviceId,
      fingerprintSha256: issued.fingerprintSha256,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    })
    this.#audit.append({
      tenantId,
      actor,
      action: 'device.certificate.issue',
      target: `device:${deviceId}`,
      outcome: 'ok',
      details: { serialNumber: issued.serialNumber, notAfter: issued.notAfter },
    })
    return { certificate, certificatePem: issued.certificatePem, caChain: [...issued.chainPem] }
  }
}

function toClaim(s: SecretRecord): Claim {
  return {
    id: s.id,
    tenantId: s.tenantId ?? '',
    name: s.name,
    labels: (s.scope['labels'] ?? {}) as Labels,
    maxUses: s.maxUses ?? 1,
    uses: s.uses,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt ?? 0,
    revokedAt: s.revokedAt,
  }
}
