import type { webcrypto } from 'node:crypto'
import {
  caSigningAlgorithm,
  clockSkewMs,
  fingerprintOf,
  randomSerialHex,
  toPem,
  toWholeSeconds,
} from './pki.js'
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  nodeCrypto,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type JsonGeneralName,
  type X509Certificate,
} from './x509.js'

/** A CA certificate with the key that signs under it. */
export interface SigningCa {
  readonly cert: X509Certificate
  readonly pem: string
  readonly signingKey: webcrypto.CryptoKey
}

/** What a leaf certificate says; the CA fills in the rest. */
export interface LeafProfile {
  /** Subject common name; omitted when undefined. */
  readonly commonName: string | undefined
  readonly spki: ArrayBuffer
  readonly subjectAltNames: readonly JsonGeneralName[]
  /** Extended key usage OIDs. */
  readonly extendedKeyUsages: readonly string[]
  readonly now: number
  readonly validityMs: number
}

/** What every issued certificate returns. */
export interface IssuedCertificate {
  readonly certificatePem: string
  /** Lowercase hex, as listed in a CRL. */
  readonly serialNumber: string
  /** Epoch ms (whole seconds). */
  readonly notBefore: number
  /** Epoch ms (whole seconds); never later than the issuing intermediate's. */
  readonly notAfter: number
  /** SHA-256 of the certificate's DER, lowercase hex. */
  readonly fingerprintSha256: string
  /** The intermediate's then the root's certificate, PEM: send after the leaf in a TLS chain. */
  readonly chainPem: readonly [string, string]
}

/**
 * Signs an end-entity certificate: not a CA (critical basicConstraints), digitalSignature only
 * (critical keyUsage), the given EKUs and SANs, SKI/AKI, a random 16-byte serial, and notBefore
 * five minutes back for devices whose clocks run slow.
 */
export async function signLeaf(
  issuer: SigningCa,
  rootPem: string,
  profile: LeafProfile,
): Promise<IssuedCertificate> {
  const notBefore = toWholeSeconds(profile.now - clockSkewMs)
  const notAfter = toWholeSeconds(
    Math.min(profile.now + profile.validityMs, issuer.cert.notAfter.getTime()),
  )
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: profile.commonName === undefined ? [] : [{ CN: [profile.commonName] }],
      issuer: issuer.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: profile.spki,
      signingKey: issuer.signingKey,
      signingAlgorithm: caSigningAlgorithm,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([...profile.extendedKeyUsages], false),
        // RFC 5280 §4.2.1.6: the SAN is critical when the subject is empty.
        new SubjectAlternativeNameExtension(
          [...profile.subjectAltNames],
          profile.commonName === undefined,
        ),
        await SubjectKeyIdentifierExtension.create(profile.spki, false, nodeCrypto),
        await authorityKeyIdOf(issuer.cert),
      ],
    },
    nodeCrypto,
  )
  return {
    certificatePem: toPem(cert),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    fingerprintSha256: fingerprintOf(cert),
    chainPem: [issuer.pem, rootPem],
  }
}

/** The AKI pointing at `issuer`: its own SKI, so OpenSSL picks the right one of two intermediates. */
export async function authorityKeyIdOf(
  issuer: X509Certificate,
): Promise<AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(SubjectKeyIdentifierExtension)
  return ski === null
    ? AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, nodeCrypto)
    : new AuthorityKeyIdentifierExtension(ski.keyId, false)
}
