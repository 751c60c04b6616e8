import { createPublicKey, type KeyObject } from 'node:crypto'
import { maxCertificateBytes } from './certificate-input.js'
import { IdentityError } from './identity-error.js'
import { nodeCrypto, Pkcs10CertificateRequest } from './x509.js'

/** The public key of a CSR whose self-signature verified. */
export interface CheckedCsr {
  /** SubjectPublicKeyInfo DER, copied into the certificate as is. */
  readonly spki: ArrayBuffer
  /** e.g. `ec P-256`, `ed25519`, `rsa 2048`. */
  readonly keyDescription: string
}

const pemCsr =
  /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----[\s\S]+?-----END (?:NEW )?CERTIFICATE REQUEST-----/
const curves: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' }
const minRsaBits = 2048
/** Bigger RSA keys add nothing but verification cost; 8192 bounds it. */
const maxRsaBits = 8192

/**
 * Parses a PKCS#10 CSR, checks its key is one the CA certifies and verifies its self-signature,
 * which proves the sender holds the private key. Its subject and requested extensions are not
 * looked at: the CA decides what the certificate says.
 */
export async function checkCsr(csrPem: string): Promise<CheckedCsr> {
  if (csrPem.length > maxCertificateBytes) {
    throw invalid(
      `the CSR is ${String(csrPem.length)} characters, over ${String(maxCertificateBytes)}`,
    )
  }
  const pem = pemCsr.exec(csrPem)?.[0]
  if (pem === undefined) throw invalid('the text holds no PEM CERTIFICATE REQUEST block')
  let csr: Pkcs10CertificateRequest
  let key: KeyObject
  try {
    csr = new Pkcs10CertificateRequest(pem)
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
  } catch (err) {
    throw invalid('the CSR does not parse as PKCS#10', err)
  }
  const keyDescription = acceptedKey(key)
  let verified: boolean
  try {
    verified = await csr.verify(nodeCrypto)
  } catch (err) {
    throw invalid('its signature algorithm cannot be checked', err)
  }
  if (!verified) throw invalid('its self-signature does not verify against its public key')
  return { spki: csr.publicKey.rawData, keyDescription }
}

/** A short description of an accepted key; CLOUD_KEY_UNSUPPORTED for any other. */
function acceptedKey(key: KeyObject): string {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (type === 'ec') {
    const curve = curves[details.namedCurve ?? '']
    if (curve !== undefined) return `ec ${curve}`
    throw unsupported(`an EC key on curve ${details.namedCurve ?? 'unknown'}`)
  }
  if (type === 'ed25519') return 'ed25519'
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0
    if (bits >= minRsaBits && bits <= maxRsaBits) return `rsa ${String(bits)}`
    throw unsupported(`a ${String(bits)}-bit RSA key`)
  }
  throw unsupported(`a ${type ?? 'unknown'} key`)
}

function unsupported(what: string): IdentityError {
  return new IdentityError('CLOUD_KEY_UNSUPPORTED', `the CSR carries ${what}`, {
    hint: 'Generate an EC P-256 key (or P-384, Ed25519, RSA 2048–8192) on the device and send a new CSR.',
  })
}

function invalid(reason: string, cause?: unknown): IdentityError {
  return new IdentityError('CLOUD_CSR_INVALID', `certificate signing request refused: ${reason}`, {
    hint: 'Send a PKCS#10 CSR in PEM, signed with the key the device keeps.',
    ...(cause === undefined ? {} : { cause }),
  })
}
