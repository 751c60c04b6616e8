import { isIP } from 'node:net'
import { checkValidityDays } from './device-certificate.js'
import { IdentityError } from './identity-error.js'
import { signLeaf, type IssuedCertificate, type SigningCa } from './leaf-certificate.js'
import { dayMs, generateP256KeyPair, spkiOf } from './pki.js'
import { parseCertificateInput } from './certificate-input.js'
import { ExtendedKeyUsage, type JsonGeneralName } from './x509.js'

/** What the node's own TLS listener certificate covers. */
export interface ServerCertificateRequest {
  /** DNS names and IP addresses clients connect to; IPs become IP SANs. 1–100 entries. */
  readonly hostnames: readonly string[]
  /** 1–3650 whole days; 90 by default (renew with `certificateNeedsRenewal`). */
  readonly validityDays?: number
}

/** A server certificate with its fresh private key. */
export interface IssuedServerCertificate extends IssuedCertificate {
  /** The ECDSA P-256 private key, unencrypted PKCS#8 PEM: store it mode 0600. */
  readonly keyPem: string
}

export const defaultServerValidityDays = 90
const maxHostnames = 100
const dnsLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/** Issues a serverAuth certificate for the node's MQTTS and HTTPS listeners, with a new key. */
export async function issueServerCertificate(
  issuer: SigningCa,
  rootPem: string,
  request: ServerCertificateRequest,
  now: number,
): Promise<IssuedServerCertificate> {
  const validityDays = checkValidityDays(request.validityDays ?? defaultServerValidityDays)
  const names = subjectAltNamesOf(request.hostnames)
  const commonName = names.find((n) => n.value.length <= 64)?.value
  const { privateKey } = generateP256KeyPair()
  const spki = spkiOf(privateKey)
  const issued = await signLeaf(issuer, rootPem, {
    commonName,
    spki: new Uint8Array(spki).buffer,
    subjectAltNames: names,
    extendedKeyUsages: [ExtendedKeyUsage.serverAuth],
    now,
    validityMs: validityDays * dayMs,
  })
  return { ...issued, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

/** DNS and IP SAN entries for hostnames, deduplicated; CLOUD_ISSUE_INVALID for a bad one. */
export function subjectAltNamesOf(hostnames: readonly string[]): JsonGeneralName[] {
  if (hostnames.length === 0 || hostnames.length > maxHostnames) {
    throw invalidHost(`${String(hostnames.length)} hostnames given`, 'Give 1 to 100 hostnames.')
  }
  const seen = new Set<string>()
  const names: JsonGeneralName[] = []
  for (const raw of hostnames) {
    const host = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1')
    if (seen.has(host)) continue
    seen.add(host)
    if (isIP(host) !== 0) names.push({ type: 'ip', value: host })
    else if (isDnsName(host)) names.push({ type: 'dns', value: host })
    else
      throw invalidHost(
        `hostname ${JSON.stringify(raw)} is neither an IP address nor a DNS name`,
        'Use names like mqtt.example.com or *.example.com, or an IPv4/IPv6 address.',
      )
  }
  return names
}

function isDnsName(host: string): boolean {
  if (host.length > 253) return false
  const labels = host.split('.')
  // A wildcard only as the whole leftmost label, and not directly under a top-level domain.
  const [first, ...rest] = labels
  const body = first === '*' && rest.length >= 2 ? rest : labels
  return body.every((l) => dnsLabel.test(l))
}

function invalidHost(message: string, hint: string): IdentityError {
  return new IdentityError('CLOUD_ISSUE_INVALID', message, {
    hint,
    details: { field: 'hostnames' },
  })
}

/**
 * True when a certificate should be renewed: less than `remainingFraction` (a third by default)
 * of its lifetime is left at `now`, or it is already expired.
 *
 * @param certificate a PEM certificate or its validity in epoch ms
 */
export function certificateNeedsRenewal(
  certificate: string | { readonly notBefore: number; readonly notAfter: number },
  now: number,
  remainingFraction = 1 / 3,
): boolean {
  const { notBefore, notAfter } =
    typeof certificate === 'string' ? validityOf(certificate) : certificate
  return notAfter - now < (notAfter - notBefore) * remainingFraction
}

function validityOf(pem: string): { notBefore: number; notAfter: number } {
  const cert = parseCertificateInput(pem)
  return { notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() }
}
