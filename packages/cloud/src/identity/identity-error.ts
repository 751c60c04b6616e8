import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the device identity module throws, with what it means. `docs/errors.md` lists
 * the same codes; `npm run check:docs` fails when the two disagree.
 */
export const identityErrorCodes = {
  CLOUD_CSR_INVALID:
    'A certificate signing request that is not a PKCS#10 PEM, is over the size limit, or whose self-signature does not verify (the sender does not hold the key).',
  CLOUD_KEY_UNSUPPORTED:
    'A public key the CA does not certify: only EC P-256/P-384, Ed25519 and RSA of 2048 to 8192 bits are accepted.',
  CLOUD_ISSUE_INVALID:
    'An argument that cannot go into a certificate or CRL (tenant or device id, hostname, validity, CRL period, serial number); the message names it.',
  CLOUD_CA_UNAVAILABLE:
    'The operation needs a CA key that is not usable: the offline root key (renewing the intermediate) or an expired intermediate (issuing, CRLs).',
  CLOUD_CA_PASSPHRASE: 'The CA keys are encrypted and no passphrase, or a wrong one, was given.',
  CLOUD_CA_CORRUPT:
    'A file in the CA folder is missing, does not parse, or does not match the others (key and certificate, intermediate and root); the message names the file.',
  CLOUD_CA_IO:
    'Reading or writing the CA folder failed (permissions, disk full); the message names the file.',
  CLOUD_CERT_INVALID:
    'A presented certificate that is not a Strata device certificate from this CA: unparseable, no Strata device URI, wrong key usage, or not signed by this CA.',
  CLOUD_CERT_EXPIRED:
    'A presented certificate outside its validity period (expired or not yet valid), or issued by an intermediate that has expired.',
} as const

/** One of the identity module's error codes. */
export type IdentityErrorCode = keyof typeof identityErrorCodes

/** An error from the device identity module (CA, certificates, CSRs, CRLs). */
export class IdentityError extends StrataError {
  declare readonly code: IdentityErrorCode

  constructor(code: IdentityErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
