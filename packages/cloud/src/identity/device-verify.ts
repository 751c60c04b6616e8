import { parseCertificateInput, type CertificateInput } from './certificate-input.js'
import { identityOf, type DeviceIdentity } from './device-identity.js'
import { IdentityError } from './identity-error.js'
import type { SigningCa } from './leaf-certificate.js'
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  nodeCrypto,
  type X509Certificate,
} from './x509.js'

/**
 * Checks what TLS checks for a client certificate, for paths where TLS did not: signed by one of
 * `issuers` (whose own link to the root was checked when the CA opened), inside its validity and
 * the issuer's, an end-entity clientAuth certificate; then reads the device it names. Revocation
 * is the registry's to check, by `serialNumber`.
 */
export async function verifyDeviceCertificate(
  issuers: readonly SigningCa[],
  certificate: CertificateInput,
  now: number,
): Promise<DeviceIdentity> {
  const cert = parseCertificateInput(certificate)
  const issuer = issuers.find((i) => i.cert.subject === cert.issuer)
  if (issuer === undefined || !(await signedBy(cert, issuer))) {
    throw invalid(cert, `is not signed by this CA (issuer ${cert.issuer})`)
  }
  for (const c of [cert, issuer.cert]) {
    if (now < c.notBefore.getTime() || now > c.notAfter.getTime()) {
      const which = c === cert ? 'the certificate' : 'its issuing CA'
      throw new IdentityError(
        'CLOUD_CERT_EXPIRED',
        `certificate ${cert.serialNumber}: ${which} is valid from ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}, not at ${new Date(now).toISOString()}`,
        { hint: 'Renew the device certificate (and check the device clock).' },
      )
    }
  }
  if (cert.getExtension(BasicConstraintsExtension)?.ca === true) {
    throw invalid(cert, 'is a CA certificate')
  }
  const eku = cert.getExtension(ExtendedKeyUsageExtension)
  if (eku === null || !eku.usages.includes(ExtendedKeyUsage.clientAuth)) {
    throw invalid(cert, 'is not for client authentication (no clientAuth EKU)')
  }
  return identityOf(cert)
}

async function signedBy(cert: X509Certificate, issuer: SigningCa): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.cert.publicKey, signatureOnly: true }, nodeCrypto)
  } catch {
    // An algorithm WebCrypto cannot verify is a signature we did not make.
    return false
  }
}

function invalid(cert: X509Certificate, reason: string): IdentityError {
  return new IdentityError('CLOUD_CERT_INVALID', `certificate ${cert.serialNumber} ${reason}`, {
    hint: 'Present the device certificate this Strata node issued.',
  })
}
