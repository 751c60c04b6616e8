import { IdentityError } from './identity-error.js'
import { authorityKeyIdOf, type SigningCa } from './leaf-certificate.js'
import { caSigningAlgorithm, toWholeSeconds } from './pki.js'
import { Extension, nodeCrypto, X509CrlGenerator, X509CrlReason, type X509Crl } from './x509.js'

/** Why a certificate was revoked (RFC 5280 §5.3.1 reason codes Strata uses). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'privilegeWithdrawn'

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Hex, as `IssuedCertificate.serialNumber` gave it. */
  readonly serialNumber: string
  /** Epoch ms. */
  readonly revokedAt: number
  readonly reason?: RevocationReason
}

const reasonCodes: Readonly<Record<RevocationReason, X509CrlReason>> = {
  unspecified: X509CrlReason.unspecified,
  keyCompromise: X509CrlReason.keyCompromise,
  affiliationChanged: X509CrlReason.affiliationChanged,
  superseded: X509CrlReason.superseded,
  cessationOfOperation: X509CrlReason.cessationOfOperation,
  privilegeWithdrawn: X509CrlReason.privilegeWithdrawn,
}
const serialPattern = /^[0-9a-f]{2,40}$/
const cRLNumberOid = '2.5.29.20'

/**
 * Signs a CRL. `nextUpdate` is always set: without it revoked entries have been seen dropped
 * (shared/DEPENDENCIES.md), and OpenSSL cannot tell a stale CRL. The cRLNumber is thisUpdate in
 * ms, so it grows with each CRL as RFC 5280 §5.2.3 asks.
 */
export async function signCrl(
  issuer: SigningCa,
  revoked: readonly RevokedCertificate[],
  thisUpdateMs: number,
  nextUpdateMs: number,
): Promise<X509Crl> {
  const thisUpdate = toWholeSeconds(thisUpdateMs)
  return X509CrlGenerator.create(
    {
      issuer: issuer.cert.subjectName,
      thisUpdate,
      nextUpdate: toWholeSeconds(nextUpdateMs),
      signingKey: issuer.signingKey,
      signingAlgorithm: caSigningAlgorithm,
      extensions: [await authorityKeyIdOf(issuer.cert), crlNumber(thisUpdate.getTime())],
      entries: checkRevoked(revoked).map((r) => ({
        serialNumber: r.serialNumber,
        revocationDate: toWholeSeconds(r.revokedAt),
        ...(r.reason === undefined ? {} : { reason: reasonCodes[r.reason] }),
      })),
    },
    nodeCrypto,
  )
}

/** Normalised, deduplicated entries (the earliest revocation of a serial wins). */
function checkRevoked(revoked: readonly RevokedCertificate[]): RevokedCertificate[] {
  const bySerial = new Map<string, RevokedCertificate>()
  for (const r of revoked) {
    const hex = r.serialNumber.toLowerCase()
    const serialNumber = hex.length % 2 === 1 ? `0${hex}` : hex
    if (!serialPattern.test(serialNumber)) {
      throw new IdentityError(
        'CLOUD_ISSUE_INVALID',
        `revoked serial ${JSON.stringify(r.serialNumber)} is not hex`,
        {
          hint: 'Pass serial numbers as the CA returned them (hex, at most 20 bytes).',
          details: { field: 'serialNumber' },
        },
      )
    }
    if (!Number.isFinite(r.revokedAt) || r.revokedAt < 0) {
      throw new IdentityError('CLOUD_ISSUE_INVALID', `revokedAt of ${serialNumber} is not a time`, {
        details: { field: 'revokedAt' },
      })
    }
    const seen = bySerial.get(serialNumber)
    if (seen === undefined || r.revokedAt < seen.revokedAt)
      bySerial.set(serialNumber, { ...r, serialNumber })
  }
  return [...bySerial.values()]
}

/** The cRLNumber extension holding `n` as a DER INTEGER. */
function crlNumber(n: number): Extension {
  let hex = BigInt(n).toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`
  const body = Buffer.from(hex, 'hex')
  return new Extension(cRLNumberOid, false, Buffer.concat([Buffer.from([0x02, body.length]), body]))
}
