import type { StateDb } from '../db/state-db.js'

/** A device certificate Strata issued, as the registry remembers it (not the PEM). */
export interface IssuedCertificate {
  readonly serialNumber: string
  readonly tenantId: string
  readonly deviceId: string
  readonly fingerprintSha256: string
  readonly notBefore: number
  readonly notAfter: number
  readonly createdAt: number
  readonly revokedAt: number | null
  readonly revokeReason: string | null
}

interface Row {
  serial: string
  tenant_id: string
  device_id: string
  fingerprint: string
  not_before: number
  not_after: number
  created_at: number
  revoked_at: number | null
  revoke_reason: string | null
}

/**
 * Every device certificate issued, by serial: a certificate Strata did not record, or revoked, is
 * refused at connect even when it chains to the CA. Revoked entries feed the CRL.
 */
export class CertificateLedger {
  readonly #db: StateDb
  readonly #clock: () => number

  constructor(db: StateDb, clock: () => number) {
    this.#db = db
    this.#clock = clock
  }

  record(
    cert: Omit<IssuedCertificate, 'createdAt' | 'revokedAt' | 'revokeReason'>,
  ): IssuedCertificate {
    this.#db
      .prepare(
        `INSERT INTO certificates (serial, tenant_id, device_id, fingerprint, not_before, not_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        cert.serialNumber.toLowerCase(),
        cert.tenantId,
        cert.deviceId,
        cert.fingerprintSha256,
        cert.notBefore,
        cert.notAfter,
        this.#clock(),
      )
    return this.get(cert.serialNumber) as IssuedCertificate
  }

  get(serialNumber: string): IssuedCertificate | undefined {
    const row = this.#db
      .prepare('SELECT * FROM certificates WHERE serial = ?')
      .get(serialNumber.toLowerCase()) as Row | undefined
    return row === undefined ? undefined : toCert(row)
  }

  /** A device's certificates, newest first. */
  forDevice(deviceId: string): IssuedCertificate[] {
    return (
      this.#db
        .prepare('SELECT * FROM certificates WHERE device_id = ? ORDER BY created_at DESC')
        .all(deviceId) as Row[]
    ).map(toCert)
  }

  /** Revokes one certificate; true when it was live. */
  revoke(serialNumber: string, reason: string): boolean {
    return (
      this.#db
        .prepare(
          'UPDATE certificates SET revoked_at = ?, revoke_reason = ? WHERE serial = ? AND revoked_at IS NULL',
        )
        .run(this.#clock(), reason, serialNumber.toLowerCase()).changes === 1
    )
  }

  /** Revoked certificates that have not expired yet: what a CRL must list. */
  revokedUnexpired(): IssuedCertificate[] {
    return (
      this.#db
        .prepare('SELECT * FROM certificates WHERE revoked_at IS NOT NULL AND not_after > ?')
        .all(this.#clock()) as Row[]
    ).map(toCert)
  }
}

function toCert(r: Row): IssuedCertificate {
  return {
    serialNumber: r.serial,
    tenantId: r.tenant_id,
    deviceId: r.device_id,
    fingerprintSha256: r.fingerprint,
    notBefore: r.not_before,
    notAfter: r.not_after,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    revokeReason: r.revoke_reason,
  }
}
