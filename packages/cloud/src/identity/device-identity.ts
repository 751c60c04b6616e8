import { parseDeviceUri } from './device-name.js'
import { parseCertificateInput, type CertificateInput } from './certificate-input.js'
import { IdentityError } from './identity-error.js'
import { fingerprintOf } from './pki.js'
import { SubjectAlternativeNameExtension, type X509Certificate } from './x509.js'

/** Who a device certificate names, and which certificate it is. */
export interface DeviceIdentity {
  readonly tenantId: string
  readonly deviceId: string
  /** Lowercase hex, as in a CRL and in `IssuedDeviceCertificate.serialNumber`. */
  readonly serialNumber: string
  /** Epoch ms. */
  readonly notAfter: number
  /** SHA-256 of the certificate's DER, lowercase hex. */
  readonly fingerprintSha256: string
}

/**
 * The device a certificate names, read from its `urn:strata:device:<tenantId>:<deviceId>` SAN
 * URI. It checks no signature or date: use it on a TLS peer that TLS already verified
 * (`socket.authorized`), or call `CertificateAuthority.verifyDeviceCertificate` instead.
 */
export function deviceIdentityFromCertificate(certificate: CertificateInput): DeviceIdentity {
  return identityOf(parseCertificateInput(certificate))
}

/** The identity a parsed certificate names; CLOUD_CERT_INVALID unless it has exactly one. */
export function identityOf(cert: X509Certificate): DeviceIdentity {
  let uris: string[]
  try {
    const san = cert.getExtension(SubjectAlternativeNameExtension)
    uris = (san?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value)
  } catch (err) {
    throw new IdentityError(
      'CLOUD_CERT_INVALID',
      'the certificate has an unreadable SAN extension',
      {
        cause: err,
      },
    )
  }
  const named = uris.map(parseDeviceUri).filter((n) => n !== undefined)
  const first = named[0]
  if (first === undefined || named.length > 1) {
    throw new IdentityError(
      'CLOUD_CERT_INVALID',
      `certificate ${cert.serialNumber} (${cert.subject}) has ${named.length === 0 ? 'no' : 'more than one'} urn:strata:device SAN URI`,
      { hint: 'Only device certificates issued by a Strata CA identify a device.' },
    )
  }
  return {
    tenantId: first.tenantId,
    deviceId: first.deviceId,
    serialNumber: cert.serialNumber.toLowerCase(),
    notAfter: cert.notAfter.getTime(),
    fingerprintSha256: fingerprintOf(cert),
  }
}
