import type { PeerCertificate } from 'node:tls'
import { IdentityError } from './identity-error.js'
import { X509Certificate } from './x509.js'

/** Certificates and CSRs larger than this are refused before parsing (ours are under 1 KiB). */
export const maxCertificateBytes = 16 * 1024

/** A certificate as callers hold it: node's peer certificate, a PEM string, or DER bytes. */
export type CertificateInput = PeerCertificate | string | Uint8Array

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/

/** Parses one certificate, throwing CLOUD_CERT_INVALID with the reason when it cannot. */
export function parseCertificateInput(input: CertificateInput): X509Certificate {
  let source: string | Uint8Array
  if (typeof input === 'string') {
    const pem = pemCertificate.exec(input)?.[0]
    if (pem === undefined) throw invalid('the text holds no PEM CERTIFICATE block')
    source = pem
  } else if (input instanceof Uint8Array) {
    source = input
  } else {
    // getPeerCertificate() returns {} when the peer sent no certificate.
    const raw = (input as Partial<PeerCertificate>).raw
    if (!(raw instanceof Uint8Array) || raw.length === 0) {
      throw invalid('the peer presented no certificate')
    }
    source = raw
  }
  if (source.length > maxCertificateBytes) {
    throw invalid(
      `the certificate is ${String(source.length)} bytes, over ${String(maxCertificateBytes)}`,
    )
  }
  try {
    return new X509Certificate(source)
  } catch (err) {
    throw invalid('the certificate does not parse as X.509', err)
  }
}

function invalid(reason: string, cause?: unknown): IdentityError {
  return new IdentityError('CLOUD_CERT_INVALID', `not a usable certificate: ${reason}`, {
    hint: 'Present the device certificate issued by this Strata node (PEM or DER).',
    ...(cause === undefined ? {} : { cause }),
  })
}
