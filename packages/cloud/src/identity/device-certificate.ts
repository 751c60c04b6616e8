import { checkCsr } from './csr.js'
import { checkDeviceName, deviceUri } from './device-name.js'
import { IdentityError } from './identity-error.js'
import { signLeaf, type IssuedCertificate, type SigningCa } from './leaf-certificate.js'
import { dayMs } from './pki.js'
import { ExtendedKeyUsage } from './x509.js'

/** What to certify: a CSR from the device and the name the CA gives it. */
export interface DeviceCertificateRequest {
  /** PKCS#10 in PEM, made and signed on the device. */
  readonly csrPem: string
  readonly tenantId: string
  readonly deviceId: string
  /** 1–3650 whole days; 365 by default. Capped at the intermediate's own expiry. */
  readonly validityDays?: number
}

/** A device certificate, with what the registry needs to keep about it. */
export interface IssuedDeviceCertificate extends IssuedCertificate {
  /** The key in the CSR, e.g. `ec P-256`, `ed25519`, `rsa 2048`. */
  readonly keyDescription: string
}

export const defaultDeviceValidityDays = 365
const maxValidityDays = 3650

/**
 * Issues a device certificate from a CSR: subject CN = deviceId, SAN URI
 * `urn:strata:device:<tenantId>:<deviceId>`, clientAuth. The CSR's subject and extensions are
 * ignored.
 */
export async function issueDeviceCertificate(
  issuer: SigningCa,
  rootPem: string,
  request: DeviceCertificateRequest,
  now: number,
): Promise<IssuedDeviceCertificate> {
  checkDeviceName(request.tenantId, request.deviceId)
  const validityDays = checkValidityDays(request.validityDays ?? defaultDeviceValidityDays)
  const csr = await checkCsr(request.csrPem)
  const issued = await signLeaf(issuer, rootPem, {
    commonName: request.deviceId,
    spki: csr.spki,
    subjectAltNames: [{ type: 'url', value: deviceUri(request.tenantId, request.deviceId) }],
    extendedKeyUsages: [ExtendedKeyUsage.clientAuth],
    now,
    validityMs: validityDays * dayMs,
  })
  return { ...issued, keyDescription: csr.keyDescription }
}

/** Throws CLOUD_ISSUE_INVALID unless `days` is a whole number of days from 1 to 3650. */
export function checkValidityDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > maxValidityDays) {
    throw new IdentityError('CLOUD_ISSUE_INVALID', `validityDays ${String(days)} is out of range`, {
      hint: `Give a whole number of days from 1 to ${String(maxValidityDays)}.`,
      details: { field: 'validityDays' },
    })
  }
  return days
}
