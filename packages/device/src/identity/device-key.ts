import 'reflect-metadata'
import { KeyObject, webcrypto } from 'node:crypto'
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509'

/** A device's new private key (PKCS#8 PEM, never leaves the device) and its CSR (PKCS#10 PEM). */
export interface DeviceKeyAndCsr {
  readonly keyPem: string
  readonly csrPem: string
}

const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256' } as const

/**
 * Generates an ECDSA P-256 key pair and a certificate request signed with it, as a device does
 * before claim-based provisioning or a renewal (docs/protocol.md §6.5, §6.6). The subject is only
 * a hint: Strata's CA names the device itself, whatever the CSR asks.
 *
 * @example
 * const { keyPem, csrPem } = await createKeyAndCsr('SN-0042')
 */
export async function createKeyAndCsr(commonName: string): Promise<DeviceKeyAndCsr> {
  const keys = await webcrypto.subtle.generateKey(ecdsaP256, true, ['sign', 'verify'])
  const csr = await Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [commonName] }],
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    },
    webcrypto,
  )
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' })
  return { keyPem: String(keyPem), csrPem: csr.toString('pem') }
}
